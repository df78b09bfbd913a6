/** A service's --require entry, for the instrumentation tests. */
import { instrument } from '../instrumentation';

instrument({ serviceName: 'probe' });
