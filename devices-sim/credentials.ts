import { existsSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import type { LoaApi } from './loa-api.js';

export type Credentials = Record<string, string>;

/**
 * "Provisions or reads" a fleet: a secret is shown once, so the simulator keeps what it
 * was given in a fleet file and reuses it on the next start. A code Loa knows but the file
 * does not (lost file) gets a new secret by rotation.
 */
export async function ensureCredentials(
  api: LoaApi,
  codes: string[],
  areaCodes: string[],
  fleetFile: string,
  log: (line: string) => void = () => undefined,
): Promise<{ credentials: Credentials; provisioned: number; rotated: number }> {
  const credentials = readCredentials(fleetFile);
  const missing = codes.filter((code) => !credentials[code]);
  let provisioned = 0;
  let rotated = 0;
  let next = 0;
  const worker = async () => {
    while (next < missing.length) {
      const index = next++;
      const code = missing[index];
      const areaCode = areaCodes[index % areaCodes.length];
      const created = await provision(api, code, areaCode);
      if (created.status === 201) {
        credentials[code] = created.body.secret;
        provisioned++;
      } else if (created.status === 409) {
        credentials[code] = await rekey(api, code, areaCode);
        rotated++;
      } else {
        throw new Error(`${code}: provisioning answered HTTP ${created.status} ${JSON.stringify(created.body)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  if (missing.length) {
    writeCredentials(fleetFile, credentials);
    log(`provisioned ${provisioned}, re-keyed ${rotated}; secrets kept in ${fleetFile}`);
  }
  return { credentials, provisioned, rotated };
}

/** A new secret for a speaker whose secret is lost or refused; provisions it if Loa has never heard of it. */
export async function rekey(api: LoaApi, code: string, areaCode: string): Promise<string> {
  const rotation = await api.request<{ secret: string }>('POST', `/api/v1/devices/${code}/rotate-secret`);
  if (rotation.status === 200) return rotation.body.secret;
  if (rotation.status === 404) {
    const created = await provision(api, code, areaCode);
    if (created.status === 201) return created.body.secret;
  }
  throw new Error(`${code}: rotate-secret answered HTTP ${rotation.status}`);
}

function provision(api: LoaApi, code: string, areaCode: string) {
  return api.request<{ secret: string }>('POST', '/api/v1/devices', { code, name: `Loa mô phỏng ${code}`, areaCode });
}

export function readCredentials(fleetFile: string): Credentials {
  return existsSync(fleetFile) ? (JSON.parse(readFileSync(fleetFile, 'utf8')) as Credentials) : {};
}

/** Written aside and renamed, so a crash never leaves half a file of secrets. */
export function writeCredentials(fleetFile: string, credentials: Credentials): void {
  const tmp = `${fleetFile}.tmp`;
  writeFileSync(tmp, JSON.stringify(credentials, null, 1), { mode: 0o600 });
  renameSync(tmp, fleetFile);
}
