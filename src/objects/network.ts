import type { Annotations, StoredObject } from './common.js';

export interface IPAMConfig {
  subnet: string;
  range: string;
  gateway: string;
}

export interface IPAMOptions {
  driver: string;
  configs: IPAMConfig[];
}

export interface NetworkSpec {
  annotations: Annotations;
  driver: string;
  /** "encrypted", "com.docker.network.driver.mtu", ... */
  driverOptions: Record<string, string>;
  internal: boolean;
  attachable: boolean;
  ingress: boolean;
  ipam?: IPAMOptions;
}

export interface Network extends StoredObject {
  spec: NetworkSpec;
  vni: number;
  driverState: Record<string, string>;
  ipam?: IPAMOptions;
  pendingDelete: boolean;
}
