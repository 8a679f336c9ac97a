//! Python's calls as a model of a tutorial example makes them: the helpers every models
//! crate shares (`time.sleep`, `time.time`, an uncaught exception, `Process.start` and
//! `join`).

use lockproof::backend::Backend;
use lockproof::Error;
use std::time::Duration;

/// `time.sleep(secs)` (virtual time under a checker).
///
/// # Examples
///
/// ```
/// lockproof_scenario::python::sleep::<lockproof::backend::Std>(0.001);
/// ```
pub fn sleep<B: Backend>(secs: f64) {
    B::sleep(Duration::from_secs_f64(secs));
}

/// `time.time()`, in seconds.
///
/// # Examples
///
/// ```
/// assert!(lockproof_scenario::python::now::<lockproof::backend::Std>() >= 0.0);
/// ```
pub fn now<B: Backend>() -> f64 {
    B::now().0 as f64 / 1e9
}

/// An uncaught Python exception where the example cannot raise one: a failure.
///
/// # Examples
///
/// ```
/// assert_eq!(lockproof_scenario::python::py(Ok::<_, lockproof::Error>(3)), 3);
/// ```
pub fn py<T>(r: Result<T, Error>) -> T {
    r.unwrap_or_else(|e| panic!("uncaught {}", e.python_repr()))
}

/// `multiprocessing.Process(target=f, name=name).start()`.
///
/// # Examples
///
/// ```
/// use lockproof::backend::spawn::ProcessHandle;
/// use lockproof::backend::Std;
///
/// let p = lockproof_scenario::python::start::<Std>("child", || {});
/// assert_eq!(p.join(), 0);
/// ```
#[cfg(target_os = "linux")]
pub fn start<B: lockproof::backend::process::ProcessBackend>(
    name: &str,
    f: impl FnOnce() + Send + 'static,
) -> B::Process {
    B::spawn_process(name, f)
}

/// `p.join()` for each process, in order; their exit codes (0 returned, -9 killed).
///
/// # Examples
///
/// ```
/// use lockproof::backend::Std;
/// use lockproof_scenario::python::{join_all, start};
///
/// assert_eq!(join_all::<Std>(vec![start::<Std>("child", || {})]), [0]);
/// ```
#[cfg(target_os = "linux")]
pub fn join_all<B: lockproof::backend::process::ProcessBackend>(ps: Vec<B::Process>) -> Vec<i32> {
    use lockproof::backend::spawn::ProcessHandle;
    ps.into_iter().map(|p| p.join()).collect()
}

/// Every process exited normally (none was killed by a crash fault).
///
/// # Examples
///
/// ```
/// assert!(lockproof_scenario::python::all_exited(&[0, 0]));
/// assert!(!lockproof_scenario::python::all_exited(&[0, -9]));
/// ```
pub fn all_exited(codes: &[i32]) -> bool {
    codes.iter().all(|&c| c == 0)
}
