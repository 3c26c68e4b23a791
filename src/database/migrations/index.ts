import { InitialSchema1795914148880 } from './1795914148880-InitialSchema.js';
import { AddBroadcasting1795927359371 } from './1795927359371-AddBroadcasting.js';

export const MIGRATIONS = [InitialSchema1795914148880, AddBroadcasting1795927359371];
