//! The master key of the `store_restore` target and of the program that
//! writes its seeds (examples/store_restore_seeds.rs): a backup only
//! restores under the key it was written with, so both must use this one.

use mfa_store::MasterKey;

pub fn master_key() -> MasterKey {
    MasterKey::new(1, [0x5a; 32])
}
