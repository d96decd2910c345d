//! PSCI (Arm DEN 0022, version 1.0) and the SMCCC version query, answered by the board for
//! guests that call them with HVC, as QEMU's `virt` does when it runs no EL2/EL3 firmware.
//!
//! [`call`] decides what a call means; the board carries it out (starting or stopping a CPU,
//! powering off), so the decision is a pure function that tests can drive directly.

pub const PSCI_VERSION: u32 = 0x8400_0000;
pub const CPU_SUSPEND_32: u32 = 0x8400_0001;
pub const CPU_SUSPEND_64: u32 = 0xc400_0001;
pub const CPU_OFF: u32 = 0x8400_0002;
pub const CPU_ON_32: u32 = 0x8400_0003;
pub const CPU_ON_64: u32 = 0xc400_0003;
pub const AFFINITY_INFO_32: u32 = 0x8400_0004;
pub const AFFINITY_INFO_64: u32 = 0xc400_0004;
pub const MIGRATE_32: u32 = 0x8400_0005;
pub const MIGRATE_64: u32 = 0xc400_0005;
pub const MIGRATE_INFO_TYPE: u32 = 0x8400_0006;
pub const SYSTEM_OFF: u32 = 0x8400_0008;
pub const SYSTEM_RESET: u32 = 0x8400_0009;
pub const PSCI_FEATURES: u32 = 0x8400_000a;
pub const SMCCC_VERSION: u32 = 0x8000_0000;

pub const SUCCESS: i64 = 0;
pub const NOT_SUPPORTED: i64 = -1;
pub const INVALID_PARAMETERS: i64 = -2;
pub const ALREADY_ON: i64 = -4;

/// PSCI 1.0, SMCCC 1.1.
const VERSION: u64 = 0x0001_0000;
const SMCCC_1_1: u64 = 0x0001_0001;
/// MIGRATE_INFO_TYPE: "Trusted OS not present or does not require migration".
const NO_TRUSTED_OS: u64 = 2;

/// What the caller's power state is, per CPU, as AFFINITY_INFO reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Power {
    On,
    Off,
}

/// What the board must do for a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Write this to X0 and continue.
    Return(u64),
    /// Start CPU `cpu` at `entry` (EL1, MMU off) with `context` in X0; return SUCCESS to the caller.
    CpuOn {
        cpu: usize,
        entry: u64,
        context: u64,
    },
    /// Stop the calling CPU (no return).
    CpuOff,
    /// Wait for an interrupt, then return SUCCESS (a suspend that loses no state).
    Suspend,
    SystemOff,
    SystemReset,
}

fn ret(v: i64) -> Action {
    Action::Return(v as u64)
}

/// Decide the call `fid` with arguments `x1..x3`; `cpus` is each CPU's power state and
/// `cpu_of` maps an MPIDR affinity to a CPU index.
pub fn call(fid: u64, x: [u64; 3], cpus: &[Power], cpu_of: impl Fn(u64) -> Option<usize>) -> Action {
    // SMC32 function IDs take 32-bit arguments: the upper halves are ignored.
    let is32 = fid as u32 & 0x4000_0000 == 0;
    let arg = |i: usize| if is32 { x[i] & 0xffff_ffff } else { x[i] };
    if fid >> 32 != 0 {
        return ret(NOT_SUPPORTED);
    }
    match fid as u32 {
        PSCI_VERSION => Action::Return(VERSION),
        SMCCC_VERSION => Action::Return(SMCCC_1_1),
        MIGRATE_INFO_TYPE => Action::Return(NO_TRUSTED_OS),
        CPU_SUSPEND_32 | CPU_SUSPEND_64 => Action::Suspend,
        CPU_OFF => Action::CpuOff,
        CPU_ON_32 | CPU_ON_64 => match cpu_of(arg(0)) {
            None => ret(INVALID_PARAMETERS),
            Some(cpu) if cpus.get(cpu) == Some(&Power::On) => ret(ALREADY_ON),
            Some(cpu) => Action::CpuOn { cpu, entry: arg(1), context: arg(2) },
        },
        AFFINITY_INFO_32 | AFFINITY_INFO_64 => {
            // Only level 0 (one CPU) is meaningful here.
            if arg(1) != 0 {
                return ret(INVALID_PARAMETERS);
            }
            match cpu_of(arg(0)).and_then(|c| cpus.get(c)) {
                Some(Power::On) => Action::Return(0),
                Some(Power::Off) => Action::Return(1),
                None => ret(INVALID_PARAMETERS),
            }
        }
        SYSTEM_OFF => Action::SystemOff,
        SYSTEM_RESET => Action::SystemReset,
        PSCI_FEATURES => match arg(0) as u32 {
            PSCI_VERSION | CPU_SUSPEND_32 | CPU_SUSPEND_64 | CPU_OFF | CPU_ON_32 | CPU_ON_64 | AFFINITY_INFO_32
            | AFFINITY_INFO_64 | MIGRATE_INFO_TYPE | SYSTEM_OFF | SYSTEM_RESET | PSCI_FEATURES | SMCCC_VERSION => {
                ret(SUCCESS)
            }
            _ => ret(NOT_SUPPORTED),
        },
        // MIGRATE (there is nothing to migrate) and everything else, including SMCCC
        // ARCH_FEATURES queries for firmware workarounds: not supported.
        _ => ret(NOT_SUPPORTED),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn by_index(n: usize) -> impl Fn(u64) -> Option<usize> {
        move |mpidr| (mpidr < n as u64).then_some(mpidr as usize)
    }

    #[test]
    fn version_and_features_describe_psci_1_0() {
        let cpus = [Power::On];
        assert_eq!(call(PSCI_VERSION as u64, [0; 3], &cpus, by_index(1)), Action::Return(0x1_0000));
        assert_eq!(call(PSCI_FEATURES as u64, [CPU_ON_64 as u64, 0, 0], &cpus, by_index(1)), Action::Return(0));
        assert_eq!(call(PSCI_FEATURES as u64, [0x8400_0010, 0, 0], &cpus, by_index(1)), ret(NOT_SUPPORTED));
        assert_eq!(call(0x8000_0001, [0; 3], &cpus, by_index(1)), ret(NOT_SUPPORTED));
    }

    #[test]
    fn cpu_on_starts_an_off_cpu_and_refuses_one_already_on_or_unknown() {
        let cpus = [Power::On, Power::Off];
        assert_eq!(
            call(CPU_ON_64 as u64, [1, 0x4020_0000, 7], &cpus, by_index(2)),
            Action::CpuOn { cpu: 1, entry: 0x4020_0000, context: 7 }
        );
        assert_eq!(call(CPU_ON_64 as u64, [0, 0x4020_0000, 7], &cpus, by_index(2)), ret(ALREADY_ON));
        assert_eq!(call(CPU_ON_64 as u64, [5, 0x4020_0000, 7], &cpus, by_index(2)), ret(INVALID_PARAMETERS));
    }

    #[test]
    fn smc32_calls_ignore_the_upper_halves_of_their_arguments() {
        let cpus = [Power::On, Power::Off];
        assert_eq!(
            call(CPU_ON_32 as u64, [0xdead_0000_0000_0001, 0xffff_ffff_8000_0000, 0], &cpus, by_index(2)),
            Action::CpuOn { cpu: 1, entry: 0x8000_0000, context: 0 }
        );
    }

    #[test]
    fn affinity_info_reports_power_state_per_cpu() {
        let cpus = [Power::On, Power::Off];
        assert_eq!(call(AFFINITY_INFO_64 as u64, [0, 0, 0], &cpus, by_index(2)), Action::Return(0));
        assert_eq!(call(AFFINITY_INFO_64 as u64, [1, 0, 0], &cpus, by_index(2)), Action::Return(1));
        assert_eq!(call(AFFINITY_INFO_64 as u64, [1, 1, 0], &cpus, by_index(2)), ret(INVALID_PARAMETERS));
    }

    #[test]
    fn power_calls_become_board_actions() {
        let cpus = [Power::On];
        assert_eq!(call(SYSTEM_OFF as u64, [0; 3], &cpus, by_index(1)), Action::SystemOff);
        assert_eq!(call(SYSTEM_RESET as u64, [0; 3], &cpus, by_index(1)), Action::SystemReset);
        assert_eq!(call(CPU_OFF as u64, [0; 3], &cpus, by_index(1)), Action::CpuOff);
        assert_eq!(call(1 << 32 | SYSTEM_OFF as u64, [0; 3], &cpus, by_index(1)), ret(NOT_SUPPORTED));
    }
}
