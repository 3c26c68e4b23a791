import { InitialSchema1795914148880 } from './1795914148880-InitialSchema.js';
import { AddBroadcasting1795927359371 } from './1795927359371-AddBroadcasting.js';
import { Accounts1796100000001 } from './1796100000001-Accounts.js';
import { AreaScopes1796100000002 } from './1796100000002-AreaScopes.js';
import { AuditLog1796100000003 } from './1796100000003-AuditLog.js';
import { LiveEvents1796100000004 } from './1796100000004-LiveEvents.js';
import { OfflineAlarms1796100000005 } from './1796100000005-OfflineAlarms.js';
import { Reports1796100000006 } from './1796100000006-Reports.js';

export const MIGRATIONS = [
  InitialSchema1795914148880,
  AddBroadcasting1795927359371,
  Accounts1796100000001,
  AreaScopes1796100000002,
  AuditLog1796100000003,
  LiveEvents1796100000004,
  OfflineAlarms1796100000005,
  Reports1796100000006,
];
