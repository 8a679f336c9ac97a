//! `ScheduleFile::parse` on any text: a file is read or refused with a one-line error, never
//! a panic, an abort or a hang; a file it reads writes back (`to_text`) to text that reads
//! as the same file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lockproof_harness::schedule::ScheduleFile;

fuzz_target!(|data: &[u8]| {
    // Schedule files are UTF-8 text: `load` refuses other bytes before `parse` sees them.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match ScheduleFile::parse(text) {
        Ok(file) => {
            let written = file.to_text();
            let again = ScheduleFile::parse(&written)
                .unwrap_or_else(|e| panic!("{written:?} was written but is refused: {e}"));
            assert_eq!(again, file, "written as {written:?}");
        }
        Err(e) => {
            let message = e.to_string();
            assert!(
                !message.contains(['\n', '\r']),
                "a rejection of more than one line: {message:?}"
            );
        }
    }
});
