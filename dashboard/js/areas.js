// Suggestions for the target-area fields: the operator types a name or code, the list
// offers matching areas (value = code, as the API wants).
import { byId, h } from './dom.js';
import { api } from './session.js';

export function suggestAreas(inputs) {
  const list = byId('area-options');
  let timer = null;
  const search = async (q) => {
    try {
      const page = await api(`/api/v1/areas?q=${encodeURIComponent(q)}&pageSize=20`);
      list.replaceChildren(...page.items.map((a) => h('option', { value: a.code }, `${a.name} (${a.code})`)));
    } catch (err) {
      console.warn('loa: area search failed', err);
    }
  };
  for (const input of inputs) {
    input.addEventListener('input', () => {
      clearTimeout(timer);
      const q = input.value.trim();
      if (q.length >= 2) timer = setTimeout(() => search(q), 250);
    });
  }
}

/** "Xã Vi Hương (01975)" when the suggestions know the code, else the code itself. */
export function areaLabel(code) {
  const option = [...byId('area-options').options].find((o) => o.value === code);
  return option?.textContent || code;
}
