const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * Builds an element. Text always goes in as text nodes, never as HTML, so names typed by
 * operators cannot inject markup.
 */
export function h(tag, attrs = {}, ...children) {
  return fill(document.createElement(tag), attrs, children);
}

export function svg(tag, attrs = {}, ...children) {
  return fill(document.createElementNS(SVG_NS, tag), attrs, children);
}

function fill(el, attrs, children) {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function byId(id) {
  return document.getElementById(id);
}

/** Shows a message in a form's status line; `kind` is 'ok' or 'error'. */
export function say(target, message, kind = 'ok') {
  target.textContent = message;
  target.classList.toggle('error', kind === 'error');
  target.classList.toggle('ok', kind === 'ok');
}
