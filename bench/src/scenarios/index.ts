import type { ScenarioName } from '../types';
import { fanIn } from './fan-in';
import { fanOut } from './fan-out';
import { idleMemory } from './idle-memory';
import { persistentQos1 } from './persistent-qos1';
import { qos1Latency } from './qos1-latency';
import { qos2Throughput } from './qos2-throughput';
import type { Scenario } from './scenario';

export const scenarios: Record<ScenarioName, Scenario> = {
  'fan-in': fanIn,
  'fan-out': fanOut,
  'qos1-latency': qos1Latency,
  'qos2-throughput': qos2Throughput,
  'persistent-qos1': persistentQos1,
  'idle-memory': idleMemory,
};

export type { Scenario, ScenarioContext } from './scenario';
