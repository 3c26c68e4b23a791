import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * scrypt hashes in a self-describing string: `scrypt$N$r$p$salt$hash` (base64url).
 *
 * Two cost profiles: people choose weak passwords, so theirs get the expensive one;
 * device secrets are 256-bit random tokens that no amount of guessing reaches, so a
 * cheap profile keeps a reconnect storm of thousands of speakers from pinning the CPU.
 */
export const HASH_COST = {
  password: { N: 1 << 15, r: 8, p: 1 },
  deviceSecret: { N: 1 << 10, r: 8, p: 1 },
} as const;

const KEY_LENGTH = 32;

function derive(secret: string, salt: Buffer, cost: { N: number; r: number; p: number }): Promise<Buffer> {
  const options: ScryptOptions = { ...cost, maxmem: 256 * cost.N * cost.r };
  return new Promise((resolve, reject) =>
    scrypt(secret, salt, KEY_LENGTH, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export async function hashSecret(secret: string, cost: { N: number; r: number; p: number }): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(secret, salt, cost);
  return ['scrypt', cost.N, cost.r, cost.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const key = await derive(secret, Buffer.from(salt, 'base64url'), { N: Number(n), r: Number(r), p: Number(p) });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A fresh device secret: 32 random bytes, base64url (43 characters). */
export function newDeviceSecret(): string {
  return randomBytes(32).toString('base64url');
}
