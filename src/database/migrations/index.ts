import { InitialSchema1795914148880 } from './1795914148880-InitialSchema.js';

export const MIGRATIONS = [InitialSchema1795914148880];
