//! The command line, read by `cli::parse` and finished by `cli::finish` as `main` does:
//! any arguments (NUL-separated in the input, as no argument can hold a NUL) are either a
//! command or a usage error printed as one line `lockproof: …` with exit code 2. Nothing
//! is run: `parse` does no I/O.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lockproof_cli::cli;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let args: Vec<String> = if text.is_empty() {
        Vec::new()
    } else {
        text.split('\0').map(str::to_owned).collect()
    };
    if let Err(e) = cli::parse(&args) {
        assert!(
            !e.contains(['\n', '\r']),
            "{args:?}: a usage error of more than one line: {e:?}"
        );
        let mut stderr = Vec::new();
        assert_eq!(
            cli::finish(Err(e.clone()), &mut stderr),
            2,
            "{args:?}: a usage error exits 2"
        );
        assert_eq!(
            String::from_utf8(stderr).ok(),
            Some(format!("lockproof: {e}\n"))
        );
    }
});
