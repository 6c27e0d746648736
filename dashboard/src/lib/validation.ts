import { debugString } from '../crypto/accessor';

/** outlayer_types::check_profile_name: 1-64 of [A-Za-z0-9_-], with its message. */
export function profileNameError(name: string): string | null {
  return /^[A-Za-z0-9_-]{1,64}$/.test(name) ? null : `profile name ${debugString(name)} must be 1-64 characters of [A-Za-z0-9_-]`;
}
