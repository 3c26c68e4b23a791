/** The few REST calls the simulator needs, with the admin's bearer token. */
export class LoaApi {
  private token: string | null = null;

  constructor(
    private readonly baseUrl: string,
    private readonly username: string,
    private readonly password: string,
  ) {}

  async login(): Promise<void> {
    const res = await fetch(`${this.baseUrl}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: this.username, password: this.password }),
    });
    if (!res.ok) throw new Error(`login as ${this.username} failed: HTTP ${res.status}`);
    this.token = ((await res.json()) as { accessToken: string }).accessToken;
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    return this.send<T>(method, path, () =>
      body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } },
    );
  }

  /** A multipart upload of one file, as `POST /api/v1/media` takes it. */
  async upload<T>(path: string, field: string, bytes: Buffer, filename: string, mime: string): Promise<{ status: number; body: T }> {
    return this.send<T>('POST', path, () => {
      const form = new FormData();
      form.append(field, new Blob([new Uint8Array(bytes)], { type: mime }), filename);
      return { body: form };
    });
  }

  /** Logs in again once when the token has expired (it lives JWT_TTL_S, and a fleet runs for days). */
  private async send<T>(
    method: string,
    path: string,
    init: () => { body?: string | FormData; headers?: Record<string, string> },
  ): Promise<{ status: number; body: T }> {
    if (!this.token) await this.login();
    for (let attempt = 0; ; attempt++) {
      const { body, headers } = init();
      const res = await fetch(`${this.baseUrl}${path}`, { method, headers: { authorization: `Bearer ${this.token}`, ...headers }, body });
      if (res.status === 401 && attempt === 0) {
        await res.body?.cancel();
        await this.login();
        continue;
      }
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
    }
  }

  /**
   * The area subtree under `root`: its leaves (communes, or the lowest areas), and for each
   * area in it the path from the top of the tree down to it — the area command topics a
   * speaker placed there listens to.
   */
  async areaTree(root: string): Promise<{ leaves: string[]; pathOf: Map<string, string[]> }> {
    const top = await this.request<{ ancestors: { code: string }[] }>('GET', `/api/v1/areas/${encodeURIComponent(root)}`);
    if (top.status !== 200) throw new Error(`area ${root}: HTTP ${top.status}`);
    const pathOf = new Map([[root, [...top.body.ancestors.map((a) => a.code), root]]]);
    const leaves: string[] = [];
    const queue = [root];
    while (queue.length) {
      const code = queue.shift()!;
      const { status, body } = await this.request<{ items: { code: string }[] }>(
        'GET',
        `/api/v1/areas?parentCode=${encodeURIComponent(code)}&pageSize=500`,
      );
      if (status !== 200) throw new Error(`area ${code}: HTTP ${status}`);
      for (const child of body.items) pathOf.set(child.code, [...pathOf.get(code)!, child.code]);
      if (body.items.length) queue.push(...body.items.map((a) => a.code));
      else leaves.push(code);
    }
    return { leaves, pathOf };
  }

  /** Where each device whose code or name contains `q` is placed, within the `root` subtree. */
  async deviceAreas(root: string, q: string): Promise<Map<string, string>> {
    const areaOf = new Map<string, string>();
    for (let page = 1; ; page++) {
      const { status, body } = await this.request<{ items: { code: string; areaCode: string }[]; total: number }>(
        'GET',
        `/api/v1/devices?areaCode=${encodeURIComponent(root)}&q=${encodeURIComponent(q)}&pageSize=500&page=${page}`,
      );
      if (status !== 200) throw new Error(`devices in ${root}: HTTP ${status}`);
      for (const device of body.items) areaOf.set(device.code, device.areaCode);
      if (page * 500 >= body.total || !body.items.length) return areaOf;
    }
  }
}
