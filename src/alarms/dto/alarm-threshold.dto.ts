import { ApiProperty } from '@nestjs/swagger';
import { IsInt, Max, Min, ValidateIf } from 'class-validator';

export class PutAlarmThresholdDto {
  @ApiProperty({ type: Number, nullable: true, minimum: 1, maximum: 2_592_000, description: 'seconds offline before an alarm; null: inherit' })
  @ValidateIf((_, v) => v !== null) @IsInt() @Min(1) @Max(2_592_000)
  offlineAfterS: number | null;
}

export class AlarmThresholdDto {
  @ApiProperty() areaCode: string;
  @ApiProperty({ type: Number, nullable: true, description: 'the area’s own setting' }) offlineAfterS: number | null;
  @ApiProperty() effectiveOfflineAfterS: number;
  @ApiProperty({ type: String, nullable: true, description: 'the area whose setting applies (itself when it has its own); null: ALARM_OFFLINE_AFTER_S' })
  inheritedFrom: string | null;
}
