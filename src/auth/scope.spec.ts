import { inScope, scopeLikePattern } from './scope.js';
import type { Principal } from './principal.js';

const user = (role: Principal['role'], areaPath: string | null): Principal => ({
  userId: '00000000-0000-0000-0000-000000000001',
  username: 'u',
  role,
  areaCode: areaPath ? areaPath.split('/').at(-2)! : null,
  areaPath,
});

describe('area scopes', () => {
  it('lets an admin see everything, national objects included', () => {
    expect(inScope(user('admin', null), '/06/063/')).toBe(true);
    expect(inScope(user('admin', null), null)).toBe(true);
    expect(scopeLikePattern(user('admin', null))).toBeNull();
  });

  it('keeps a district user inside its subtree, not in a sibling whose code starts the same', () => {
    const editor = user('editor', '/06/063/');
    expect(inScope(editor, '/06/063/')).toBe(true);
    expect(inScope(editor, '/06/063/01975/')).toBe(true);
    expect(inScope(editor, '/06/0631/')).toBe(false);
    expect(inScope(editor, '/06/')).toBe(false);
    expect(inScope(editor, null)).toBe(false);
  });

  it('escapes LIKE wildcards in the scope pattern', () => {
    expect(scopeLikePattern(user('operator', '/v_1/'))).toBe('/v\\_1/%');
  });

  it('fails closed for a non-admin without an area', () => {
    const stray = user('operator', null);
    expect(inScope(stray, '/06/')).toBe(false);
    expect(inScope(stray, null)).toBe(false);
    expect(scopeLikePattern(stray)).not.toBeNull();
  });
});
