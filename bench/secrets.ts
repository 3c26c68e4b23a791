/**
 * Real device secrets with their scrypt hashes, for provisioning thousands of devices
 * straight into Postgres. Hashing is what costs (HASH_COST.deviceSecret each), so the pairs
 * are computed once per cost profile and kept in the system's temporary folder for the
 * next run. Every device gets its own secret: Loa verifies each one on its first CONNECT.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HASH_COST, hashSecret, newDeviceSecret } from '../src/common/secret-hash.js';
import { log } from './support.js';

export interface SecretPair {
  secret: string;
  hash: string;
}

export async function deviceSecrets(n: number): Promise<SecretPair[]> {
  const { N, r, p } = HASH_COST.deviceSecret;
  const file = join(tmpdir(), `loa-bench-secrets-scrypt-${N}-${r}-${p}.json`);
  const pairs: SecretPair[] = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as SecretPair[]) : [];
  if (pairs.length >= n) return pairs.slice(0, n);
  const t0 = Date.now();
  const missing = n - pairs.length;
  // scrypt runs on libuv's thread pool: a few dozen in flight keep it busy without piling up.
  for (let done = 0; done < missing; done += 64) {
    const batch = Array.from({ length: Math.min(64, missing - done) }, () => newDeviceSecret());
    pairs.push(...(await Promise.all(batch.map(async (secret) => ({ secret, hash: await hashSecret(secret, HASH_COST.deviceSecret) })))));
  }
  writeFileSync(file, JSON.stringify(pairs));
  log(`hashed ${missing} device secrets in ${((Date.now() - t0) / 1000).toFixed(1)} s (kept in ${file})`);
  return pairs;
}
