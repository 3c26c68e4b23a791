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
    if (!this.token) await this.login();
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  }

  /** The communes (or lowest areas) under `root`; `root` itself when it has no children. */
  async leafAreas(root: string): Promise<string[]> {
    const leaves: string[] = [];
    const queue = [root];
    while (queue.length) {
      const code = queue.shift()!;
      const { status, body } = await this.request<{ items: { code: string }[] }>(
        'GET',
        `/api/v1/areas?parentCode=${encodeURIComponent(code)}&pageSize=500`,
      );
      if (status !== 200) throw new Error(`area ${code}: HTTP ${status}`);
      if (body.items.length) queue.push(...body.items.map((a) => a.code));
      else leaves.push(code);
    }
    return leaves;
  }
}
