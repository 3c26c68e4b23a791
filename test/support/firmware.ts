import { randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import type { CommandPayload, SchedulePayload } from '../../src/broker/payloads.js';
import { areaCommandsTopic, deviceTopic } from '../../src/broker/topics.js';
import { connect, publish, subscribe, type ProvisionedDevice } from './devices.js';
import type { TestApp } from './test-app.js';

/**
 * A bare firmware stand-in for broadcast tests: subscribes like a speaker, records every
 * Schedule and Command it gets, and publishes what the test tells it to. Unlike
 * devices-sim it plays nothing by itself, so a test decides exactly what the device reports.
 */
export class TestFirmware {
  readonly schedules: SchedulePayload[] = [];
  readonly commands: CommandPayload[] = [];

  private constructor(
    readonly device: ProvisionedDevice,
    readonly client: MqttClient,
  ) {}

  /** Connects and subscribes to its schedule, commands and the command topic of each given area. */
  static async online(t: TestApp, device: ProvisionedDevice, areaPath: string[], opts: { autoAck?: boolean } = {}): Promise<TestFirmware> {
    const client = await connect(t, device.code, device.secret);
    const firmware = new TestFirmware(device, client);
    client.on('message', (topic, payload) => {
      if (!payload.length) return;
      const body = JSON.parse(payload.toString());
      if (topic === deviceTopic(device.code, 'schedule')) firmware.schedules.push(body);
      else if (topic.endsWith('/commands')) {
        firmware.commands.push(body);
        if (opts.autoAck) void firmware.ack(body.id, 'ok');
      }
    });
    for (const topic of [deviceTopic(device.code, 'schedule'), deviceTopic(device.code, 'commands'), ...areaPath.map(areaCommandsTopic)]) {
      const granted = await subscribe(client, topic);
      if (granted !== 1) throw new Error(`${device.code}: subscription to ${topic} refused (${granted})`);
    }
    return firmware;
  }

  get latestSchedule(): SchedulePayload | undefined {
    return this.schedules.at(-1);
  }

  ack(commandId: string, status: 'ok' | 'rejected' | 'failed' = 'ok'): Promise<void> {
    return publish(this.client, deviceTopic(this.device.code, 'acks'), JSON.stringify({ commandId, status }));
  }

  report(type: 'started' | 'finished' | 'failed' | 'interrupted' | 'skipped', occurrenceId: string, id = randomUUID()): Promise<void> {
    const event = { id, type, occurrenceId, at: new Date().toISOString() };
    return publish(this.client, deviceTopic(this.device.code, 'events'), JSON.stringify(event));
  }

  heartbeat(scheduleVersion?: number): Promise<void> {
    return publish(this.client, deviceTopic(this.device.code, 'heartbeat'), JSON.stringify({ seq: Date.now(), scheduleVersion }));
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}
