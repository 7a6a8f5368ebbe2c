import { afterEach } from 'vitest';
import { settleAllRequests } from './after-response';

// A test's requests finish their after-response work before the next test starts: deterministic state
// for the next test's assertions, whatever the first one chose to wait for.
afterEach(settleAllRequests);
