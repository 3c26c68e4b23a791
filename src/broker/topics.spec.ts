import { areaCommandsTopic, deviceTopic, inboundChannelOf, maySubscribe, type DeviceAccess } from './topics.js';

const speaker: DeviceAccess = { code: 'bk-vihuong-01', areaCodes: ['06', '063', '01975'] };

describe('device topic access', () => {
  it.each(['heartbeat', 'events', 'acks'] as const)('lets a device publish to its own %s', (channel) => {
    expect(inboundChannelOf(speaker, deviceTopic(speaker.code, channel))).toBe(channel);
  });

  it.each([
    ['its own commands topic', deviceTopic('bk-vihuong-01', 'commands')],
    ['its own schedule (retained, Loa-only)', deviceTopic('bk-vihuong-01', 'schedule')],
    ['its own config', deviceTopic('bk-vihuong-01', 'config')],
    ["another device's heartbeat", deviceTopic('bk-vihuong-02', 'heartbeat')],
    ['an area command topic', areaCommandsTopic('01975')],
    ['$SYS', '$SYS/broker/clients'],
    ['a longer topic', `${deviceTopic('bk-vihuong-01', 'heartbeat')}/extra`],
    ['another protocol version', 'loa/v2/devices/bk-vihuong-01/heartbeat'],
    ['an unknown channel', 'loa/v1/devices/bk-vihuong-01/logs'],
    ['an empty level', 'loa/v1/devices//heartbeat'],
    ['a device whose code extends its own', 'loa/v1/devices/bk-vihuong-012/heartbeat'],
    ['a device whose code is a prefix of its own', 'loa/v1/devices/bk-vihuong-0/heartbeat'],
    ['a channel with a suffix', 'loa/v1/devices/bk-vihuong-01/acksx'],
    ['a channel with a prefix', 'loa/v1/devices/bk-vihuong-01/xacks'],
    ['a channel one level down', 'loa/v1/devices/bk-vihuong-01/x/acks'],
    ['its own code one level down', 'loa/v1/devices/x/bk-vihuong-01/acks'],
    ['no channel', 'loa/v1/devices/bk-vihuong-01/'],
    ['the prefix alone', 'loa/v1/devices/bk-vihuong-01'],
  ])('refuses a publish to %s', (_what, topic) => {
    expect(inboundChannelOf(speaker, topic)).toBeNull();
  });

  it.each([
    deviceTopic('bk-vihuong-01', 'commands'),
    deviceTopic('bk-vihuong-01', 'schedule'),
    deviceTopic('bk-vihuong-01', 'config'),
    areaCommandsTopic('01975'),
    areaCommandsTopic('063'),
    areaCommandsTopic('06'),
  ])('lets a device subscribe to %s', (topic) => {
    expect(maySubscribe(speaker, topic)).toBe(true);
  });

  it.each([
    ['a wildcard on its own topics', 'loa/v1/devices/bk-vihuong-01/+'],
    ['a multi-level wildcard', 'loa/v1/#'],
    ['everything', '#'],
    ['$SYS', '$SYS/#'],
    ["another device's commands", deviceTopic('bk-vihuong-02', 'commands')],
    ['its own heartbeat (device → Loa only)', deviceTopic('bk-vihuong-01', 'heartbeat')],
    ['a sibling commune', areaCommandsTopic('01852')],
    ['another province', areaCommandsTopic('04')],
    ['an area topic other than commands', 'loa/v1/areas/06/schedule'],
    ['a wildcard area', 'loa/v1/areas/+/commands'],
  ])('refuses a subscription to %s', (_what, topic) => {
    expect(maySubscribe(speaker, topic)).toBe(false);
  });
});
