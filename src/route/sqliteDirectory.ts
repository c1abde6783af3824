/** The directory as stored in the ledger's SQLite file. */
import type { Db } from '../ledger/db.js';
import { sql } from '../ledger/flows.js';
import type { Directory, Service, Structure } from './directory.js';

interface StructureRow {
  siret: string;
  name: string;
  active: number;
  requires_engagement: number;
  requires_service: number;
  requires_service_engagement: number;
}

interface ServiceRow {
  siret: string;
  code: string;
  name: string;
  active: number;
  requires_engagement: number;
}

export function sqliteDirectory(db: Db): Directory {
  return {
    structure(siret: string): Structure | undefined {
      const r = sql(db, 'SELECT * FROM structures WHERE siret = ?').get(siret) as StructureRow | undefined;
      return r && {
        siret: r.siret,
        name: r.name,
        active: !!r.active,
        requiresEngagement: !!r.requires_engagement,
        requiresService: !!r.requires_service,
        requiresServiceAndEngagement: !!r.requires_service_engagement,
      };
    },
    service(siret: string, code: string): Service | undefined {
      const r = sql(db, 'SELECT * FROM services WHERE siret = ? AND code = ?').get(siret, code) as ServiceRow | undefined;
      return r && { siret: r.siret, code: r.code, name: r.name, active: !!r.active, requiresEngagement: !!r.requires_engagement };
    },
  };
}
