import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo, type Server } from 'node:net';
import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import { AppConfig } from '../config/app-config.js';
import { RedisService } from '../redis/redis.module.js';
import { handOffEmits, type Emitter } from './hand-off-emits.js';
import { indexRetainedByTopic, type RetainedStore } from './retained-topic-index.js';
import { skipCleanSessionClears } from './clean-session-pubacks.js';
import { createClusterBackend, type ClusterBackend } from './cluster-backend.js';
import { CONSUMED_TOPIC, endConsumedPublishes } from './consumed-publishes.js';
import { guardPacketSize, PacketTooLargeError } from './packet-size-guard.js';
import { brokerPacketWrites } from './whole-packet-writes.js';
import { DEVICE_CODE_PATTERN, inboundChannelOf, maySubscribe, type DeviceAccess, type DeviceInboundChannel } from './topics.js';

/** Why a CONNECT was refused; maps onto MQTT 3.1.1 CONNACK return codes. */
export type ConnectRefusal = 'bad-credentials' | 'not-authorized' | 'unavailable';

export type AuthenticateResult = { ok: true; access: DeviceAccess } | { ok: false; refusal: ConnectRefusal; reason: string };

/** One live MQTT session. `connId` orders connections of the same device (newer sorts higher). */
export interface DeviceSession {
  access: DeviceAccess;
  connId: string;
}

/**
 * What the broker asks of the device registry. The broker knows MQTT; the implementer knows
 * devices. Inbound messages are handed over synchronously: the hook must not block the
 * broker on a database round-trip.
 */
export interface BrokerDeviceHooks {
  authenticate(code: string, secret: string): Promise<AuthenticateResult>;
  onConnected(session: DeviceSession): void;
  onDisconnected(session: DeviceSession): void;
  onInbound(session: DeviceSession, channel: DeviceInboundChannel, payload: Buffer): void;
  onDenied(session: DeviceSession, action: 'publish' | 'subscribe', topic: string): void;
}

const RETURN_CODES: Record<ConnectRefusal, number> = { 'bad-credentials': 4, 'not-authorized': 5, unavailable: 3 };

/** Kinds of retained message Loa republishes when the broker's retained store has lost them. */
export type RetainedKind = 'config' | 'schedule';
const EMPTY = Buffer.alloc(0);

@Injectable()
export class BrokerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(BrokerService.name);
  private aedes: Aedes | null = null;
  private server: Server | null = null;
  private hooks: BrokerDeviceHooks | null = null;
  private cluster: ClusterBackend | null = null;
  private readonly sessions = new WeakMap<Client, DeviceSession>();
  /** MQTT messages in from devices and out from Loa, for /metrics: plain increments cost the device path nothing. */
  readonly traffic = { received: 0, sent: 0 };
  /**
   * This process's broker, new at every boot (BROKER_ID may repeat across restarts): device
   * connection ids carry it, so the liveness sweep can tell which links an instance that
   * died was holding.
   */
  readonly instanceId = randomBytes(4).toString('hex');
  private markListening!: () => void;
  /** Resolves once the MQTT listener is open and Loa may publish. */
  readonly listening = new Promise<void>((resolve) => (this.markListening = resolve));

  constructor(
    @Inject(AppConfig) private readonly config: AppConfig,
    @Inject(RedisService) private readonly redis: RedisService,
  ) {}

  /** Called once by the device registry during module init, before the listener opens. */
  attach(hooks: BrokerDeviceHooks): void {
    this.hooks = hooks;
  }

  async onApplicationBootstrap(): Promise<void> {
    const hooks = this.hooks;
    if (!hooks) throw new Error('BrokerService: no device hooks attached before bootstrap');
    if (this.config.CLUSTER === 'true') this.cluster = createClusterBackend(this.config.REDIS_URL, this.config.REDIS_PREFIX, this.config.BROKER_ID);
    this.aedes = await Aedes.createBroker({
      id: this.config.BROKER_ID,
      ...(this.cluster ? { mq: this.cluster.mq, persistence: this.cluster.persistence } : {}),
      // No limit on deliveries in flight (Aedes' default is 100). A delivery to a speaker that
      // stopped reading waits until its socket drains or BROKER_DRAIN_TIMEOUT_MS passes; with
      // a limit, a hundred such waits would queue every later message — an emergency to
      // everyone else — behind one frozen speaker. Memory stays bounded by the drain timeout.
      // (The cluster's emitter is built with the same setting, in cluster-backend.ts.)
      concurrency: 0,
      drainTimeout: this.config.BROKER_DRAIN_TIMEOUT_MS,
      keepaliveLimit: 60,
      preConnect: (_client, packet, done) => {
        // Wills are not part of the protocol; a will naming someone else's topic, or firing
        // after a disconnect, must never reach the gateway.
        packet.will = undefined;
        done(null, true);
      },
      authenticate: (client, username, password, done) => this.authenticate(hooks, client, username, password, done),
      authorizePublish: (client, packet, done) => {
        const session = client ? this.sessions.get(client) : undefined;
        if (!session) return done(new Error('publish from a client without a session'));
        this.traffic.received++;
        const channel = inboundChannelOf(session.access, packet.topic);
        if (channel) hooks.onInbound(session, channel, packet.payload as Buffer);
        else hooks.onDenied(session, 'publish', packet.topic);
        packet.topic = CONSUMED_TOPIC;
        packet.retain = false;
        packet.payload = EMPTY;
        done(null);
      },
      authorizeSubscribe: (client, subscription, done) => {
        const session = this.sessions.get(client);
        if (session && maySubscribe(session.access, subscription.topic)) return done(null, subscription);
        if (session) hooks.onDenied(session, 'subscribe', subscription.topic);
        done(null, null);
      },
    });
    endConsumedPublishes(this.aedes);
    skipCleanSessionClears(this.aedes);
    if (!this.cluster) {
      indexRetainedByTopic((this.aedes as unknown as { persistence: RetainedStore }).persistence);
      handOffEmits((this.aedes as unknown as { mq: Emitter }).mq, (err, topic) => this.logger.warn(`delivery on ${topic} failed: ${err.message}`));
    }
    this.aedes.on('client', (client) => {
      const session = this.sessions.get(client);
      if (session) hooks.onConnected(session);
    });
    this.aedes.on('clientDisconnect', (client) => {
      const session = this.sessions.get(client);
      if (session) hooks.onDisconnected(session);
    });
    this.aedes.on('connectionError', (client, err) => {
      this.logger.debug(`connection from ${client?.conn && 'remoteAddress' in client.conn ? client.conn.remoteAddress : '?'} failed: ${err.message}`);
    });
    this.aedes.on('clientError', (client, err) => {
      const level = err instanceof PacketTooLargeError ? 'warn' : 'debug';
      this.logger[level](`device ${client.id}: connection closed: ${err.message}`);
    });

    const aedes = this.aedes;
    const wholeWrites = brokerPacketWrites();
    let guardMissing = false;
    this.server = createServer((socket) => {
      socket.setNoDelay(true);
      wholeWrites.register(socket);
      const client = aedes.handle(socket);
      if (!guardPacketSize(client) && !guardMissing) {
        guardMissing = true;
        this.logger.error('MQTT packet size guard could not attach: has mqtt-packet changed? oversized packets are not refused');
      }
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.config.MQTT_PORT, this.config.MQTT_HOST, () => resolve());
    });
    this.markListening();
    this.logger.log(
      `MQTT broker ${this.config.BROKER_ID} listening on ${this.config.MQTT_HOST}:${this.port}` +
        (this.cluster ? ` (cluster mode: Redis prefix ${this.config.REDIS_PREFIX}:mqtt:)` : ''),
    );
  }

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  isListening(): boolean {
    return !!this.server?.listening && !!this.aedes && !this.aedes.closed;
  }

  get connectedClients(): number {
    return this.aedes?.connectedClients ?? 0;
  }

  /**
   * Whether Loa must publish its retained messages of this kind again at boot. The in-memory
   * store starts empty every time. The Redis store of cluster mode keeps them across restarts,
   * and every instance republishing everything at each (rolling) restart would bump every
   * Schedule version and resend it to every speaker; so only the first instance to boot after
   * Redis lost its data republishes — the marker is lost with the data it vouches for.
   */
  async retainedLost(kind: RetainedKind): Promise<boolean> {
    if (this.config.CLUSTER !== 'true') return true;
    return (await this.redis.client.exists(this.retainedMarker(kind))) === 0;
  }

  /** Records that every retained message of this kind has been published into the store. */
  async retainedRestored(kind: RetainedKind): Promise<void> {
    if (this.config.CLUSTER !== 'true') return;
    await this.redis.client.set(this.retainedMarker(kind), this.config.BROKER_ID);
  }

  private retainedMarker(kind: RetainedKind): string {
    return this.redis.key('broker', 'retained-restored', kind);
  }

  /** Publishes a JSON payload on behalf of Loa; resolves once Aedes has taken it. */
  publish(topic: string, payload: unknown, options: { retain?: boolean; qos?: 0 | 1 } = {}): Promise<void> {
    return this.publishRaw(topic, Buffer.from(JSON.stringify(payload)), options);
  }

  /** An empty retained payload clears the retained message of a topic. */
  clearRetained(topic: string): Promise<void> {
    return this.publishRaw(topic, EMPTY, { retain: true, qos: 1 });
  }

  /** Closes the live session of a device on this instance, if it has one. */
  disconnect(code: string): boolean {
    const client = (this.aedes as unknown as { clients?: Record<string, Client> } | null)?.clients?.[code];
    if (!client) return false;
    client.close();
    return true;
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    const aedes = this.aedes;
    const cluster = this.cluster;
    this.server = null;
    this.aedes = null;
    this.cluster = null;
    if (server) {
      // Stop accepting first, then close the sessions Aedes holds; server.close resolves
      // once every socket is gone.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      if (aedes) await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await closed;
    }
    await cluster?.close();
  }

  private publishRaw(topic: string, payload: Buffer, options: { retain?: boolean; qos?: 0 | 1 }): Promise<void> {
    const aedes = this.aedes;
    if (!aedes) return Promise.reject(new Error('broker is not running'));
    this.traffic.sent++;
    return new Promise((resolve, reject) =>
      aedes.publish(
        { cmd: 'publish', topic, payload, qos: options.qos ?? 1, retain: options.retain ?? false, dup: false },
        (err) => (err ? reject(err) : resolve()),
      ),
    );
  }

  private authenticate(
    hooks: BrokerDeviceHooks,
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void {
    const refuse = (refusal: ConnectRefusal, reason: string) => {
      this.logger.warn(`device ${JSON.stringify(String(username ?? client.id).slice(0, 64))} refused: ${reason}`);
      const error = new Error(reason) as AuthenticateError;
      error.returnCode = RETURN_CODES[refusal] as AuthenticateError['returnCode'];
      done(error, false);
    };
    if (!username || !password) return refuse('bad-credentials', 'no username or password');
    if (client.id !== username) return refuse('bad-credentials', 'clientId differs from username');
    if (!DEVICE_CODE_PATTERN.test(username)) return refuse('bad-credentials', 'not a device code');
    hooks.authenticate(username, password.toString('utf8')).then(
      (result) => {
        if (!result.ok) return refuse(result.refusal, result.reason);
        this.sessions.set(client, { access: result.access, connId: newConnId(this.instanceId) });
        done(null, true);
      },
      (err: unknown) => refuse('unavailable', `registry unavailable: ${err instanceof Error ? err.message : String(err)}`),
    );
  }
}

/** Millisecond time first, so ids of one device sort in connection order across instances; then the instance. */
function newConnId(instanceId: string): string {
  return `${Date.now().toString().padStart(15, '0')}-${instanceId}-${randomBytes(4).toString('hex')}`;
}
