/** The directory of public structures, as routing sees it (loaded from SQLite at the edge). */

export interface Structure {
  siret: string;
  name: string;
  active: boolean;
  /** GestionEngagement: an engagement number (EJ) is mandatory. */
  requiresEngagement: boolean;
  /** GestionService: a service code is mandatory. */
  requiresService: boolean;
  /** GestionServiceEngagement: service code and EJ are both mandatory. */
  requiresServiceAndEngagement: boolean;
  /** EstMOA: may receive works contract statements as their contracting authority (undefined: the export did not say). */
  moa?: boolean;
  /** EstMOAUniquement: receives works contract statements only. */
  moaOnly?: boolean;
}

export interface Service {
  siret: string;
  code: string;
  name: string;
  active: boolean;
  /** GestionEGMT: an engagement number is mandatory for this service. */
  requiresEngagement: boolean;
}

export interface Directory {
  structure(siret: string): Structure | undefined;
  service(siret: string, code: string): Service | undefined;
}

/** A structure as the directory export describes it: what routing needs, its identifier type, and whether it receives by EDI. */
export type ImportedStructure = Structure & { idType: string; ediReceiver: boolean };
