import { ApiProperty } from '@nestjs/swagger';

/** One device's time online over the period it was observed. */
export class DeviceUptimeDto {
  @ApiProperty() code: string;
  @ApiProperty() name: string;
  @ApiProperty({ description: 'the commune the device is in (its own area when placed above commune level)' }) communeCode: string;
  @ApiProperty() communeName: string;
  @ApiProperty({ description: 'whole seconds online within the observed time' }) onlineSeconds: number;
  @ApiProperty({ description: 'whole seconds from max(from, device created) to min(to, now, decommissioned)' }) observedSeconds: number;
  @ApiProperty({ description: 'online / observed × 100, two decimals' }) uptimePct: number;
}

export class UptimeSummaryDto {
  @ApiProperty() devices: number;
  @ApiProperty({ type: Number, nullable: true, description: "mean of the devices' uptimePct; null without devices" }) meanUptimePct: number | null;
}

export class UptimeReportDto {
  @ApiProperty({ type: String, nullable: true, description: 'null: the whole country' }) areaCode: string | null;
  @ApiProperty() from: string;
  @ApiProperty() to: string;
  @ApiProperty({ type: [DeviceUptimeDto] }) devices: DeviceUptimeDto[];
  @ApiProperty({ type: UptimeSummaryDto }) summary: UptimeSummaryDto;
}

export const UPTIME_CSV_COLUMNS = [
  'code',
  'name',
  'communeCode',
  'communeName',
  'onlineSeconds',
  'observedSeconds',
  'uptimePct',
] as const satisfies readonly (keyof DeviceUptimeDto)[];
