import { OmitType } from '@nestjs/swagger';
import type { BulletinDto } from '../../bulletins/dto/bulletin.dto.js';
import type { CreatedBroadcastDto } from './broadcast.response.js';
import { CreateBroadcastDto } from './create-broadcast.dto.js';

/**
 * An emergency: a `now` broadcast at priority `emergency` of a bulletin approved in the same
 * step (a submitted one, approved by this call, or one approved before). The other fields
 * and their validation are those of an ordinary broadcast.
 */
export class EmergencyBroadcastDto extends OmitType(CreateBroadcastDto, ['schedule', 'priority'] as const) {}

export interface EmergencyBroadcastResultDto {
  /** The bulletin as approved (reviewedById: the caller, unless it was approved before). */
  bulletin: BulletinDto;
  /** The same body POST /api/v1/broadcasts answers. */
  broadcast: CreatedBroadcastDto;
}
