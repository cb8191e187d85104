import type { BrokerName } from '../types';
import { aedes } from './aedes';
import { fluxmq } from './fluxmq';
import type { BrokerLauncher } from './launcher';
import { mosquitto } from './mosquitto';

export const launchers: Record<BrokerName, BrokerLauncher> = { fluxmq, aedes, mosquitto };

export { killAllBrokers, type BrokerLauncher, type RunningBroker } from './launcher';
