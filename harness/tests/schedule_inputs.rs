//! Schedule files that made the reader go wrong, most found by the fuzz target
//! `fuzz/fuzz_targets/schedule_file.rs` (see fuzz/README.md): each is now refused with a
//! one-line error, or read as what it says.

use lockproof_harness::schedule::{ScheduleError, ScheduleFile};

/// A schedule file as lockproof writes it (from the corpus' `ex-9.2-01-pause`, pct).
fn file(lines: &[&str]) -> String {
    let mut text = String::from("# lockproof schedule\nformat lockproof-schedule/1\n");
    for l in lines {
        text.push_str(l);
        text.push('\n');
    }
    text.push_str("end\n");
    text
}

const SHUTTLE_SCHEDULE: &str =
    "schedule 91023df7fedbb2dceaa3b0d50100a4aaaaaa418a24499224499224499224499224490000";

fn lines_with<'a>(faults: &[&'a str], schedule: &'a str) -> Vec<&'a str> {
    let mut lines = vec![
        "scenario ex-9.2-01-pause",
        "engine pct",
        "depth 1",
        "seed 1",
        "time timed",
        "spurious off",
    ];
    lines.extend_from_slice(faults);
    lines.extend_from_slice(&[
        "max-steps 20000",
        "kind violation",
        "property mutual-exclusion",
        "message mutual-exclusion violated: 2 threads inside critical (capacity 1)",
        "preemptions 1",
        "found-after 11",
        "trace-digest 23a4f0da1b4f",
        schedule,
    ]);
    lines
}

fn refused(text: &str) -> ScheduleError {
    let e = ScheduleFile::parse(text).expect_err("refused");
    let message = e.to_string();
    assert!(!message.contains(['\n', '\r']), "one line: {message:?}");
    e
}

#[test]
fn the_base_file_reads_and_writes_back_the_same() {
    let text = file(&lines_with(
        &["pauses 1", "pause-span 1500000000"],
        SHUTTLE_SCHEDULE,
    ));
    let read = ScheduleFile::parse(&text).expect("reads");
    assert_eq!(
        (read.settings.pauses, read.settings.pause_span),
        (1, 1_500_000_000)
    );
    assert_eq!(ScheduleFile::parse(&read.to_text()), Ok(read));
}

/// The fuzzer's first find: `pauses` twice, the later `pauses 0` silently winning, so the
/// file read as a run without pauses but with a pause span, and wrote back as another file.
#[test]
fn a_key_given_twice_is_refused() {
    let text = file(&lines_with(
        &["pauses 1", "pauses 0", "pause-span 1500000000"],
        SHUTTLE_SCHEDULE,
    ));
    assert_eq!(refused(&text), ScheduleError::Repeated("pauses"));
    assert_eq!(
        ScheduleError::Repeated("pauses").to_string(),
        "corrupt schedule file: `pauses` given twice"
    );
}

/// The same file with the repeated line gone: a pause span without pauses, which
/// lockproof never writes and nothing would use.
#[test]
fn a_pause_span_without_pauses_is_refused() {
    let text = file(&lines_with(
        &["pauses 0", "pause-span 1500000000"],
        SHUTTLE_SCHEDULE,
    ));
    assert_eq!(
        refused(&text),
        ScheduleError::Bad("pause-span", "1500000000".into())
    );
}

/// Fault counts are u32s: 2^32 + 1 crashes used to read as 1 crash.
#[test]
fn a_fault_count_beyond_u32_is_refused_not_wrapped() {
    let text = file(&lines_with(&["crashes 4294967297"], SHUTTLE_SCHEDULE));
    assert_eq!(
        refused(&text),
        ScheduleError::Bad("crashes", "4294967297".into())
    );
}

/// A carriage return inside a value read, but wrote back as a space: not a file lockproof
/// wrote. A CRLF file (an editor's line endings) still reads.
#[test]
fn a_carriage_return_inside_a_line_is_refused_but_crlf_endings_read() {
    let mut lines = lines_with(&[], SHUTTLE_SCHEDULE);
    lines[7] = "message mutual-exclusion\rviolated";
    assert!(matches!(refused(&file(&lines)), ScheduleError::Unknown(_)));
    let crlf = file(&lines_with(&[], SHUTTLE_SCHEDULE)).replace('\n', "\r\n");
    assert_eq!(
        ScheduleFile::parse(&crlf).expect("CRLF reads").scenario,
        "ex-9.2-01-pause"
    );
}

/// shuttle's decoder allocated room for as many steps as the header claims: 2^40 steps
/// aborted the process (an allocation failure, which no `catch_unwind` catches).
#[test]
fn a_shuttle_schedule_claiming_2_pow_40_steps_is_refused_not_allocated() {
    // 91, bits per task id 1, steps 2^40 (varint 80 80 80 80 80 20), seed 0, one byte.
    let text = file(&lines_with(&[], "schedule 91018080808080200000"));
    assert_eq!(
        refused(&text),
        ScheduleError::Bad("schedule", "91018080808080200000".into())
    );
}

/// Headers shuttle's decoder panicked on (under a process-wide panic hook swap, racing any
/// other thread's panic): zero or more than 64 bits per task id, a step cut short.
#[test]
fn shuttle_schedules_with_bad_headers_or_cut_steps_are_refused() {
    for hex in [
        "91000100",   // 0 bits per task id
        "91410100",   // 65 bits per task id
        "9108020000", // 2 task ids of 8 bits, 8 bits of steps
        "91",         // no header
        "910180",     // a varint cut short
        "910a",       // 10 bits per task id, then nothing
        "910",        // odd length
        "92010100",   // not shuttle's version
    ] {
        let line = format!("schedule {hex}");
        let text = file(&lines_with(&[], &line));
        assert!(
            matches!(refused(&text), ScheduleError::Bad("schedule", _)),
            "{hex}"
        );
    }
    // And a well-formed one still reads: 1-bit ids, 2 steps (task 1, random), seed 5.
    let text = file(&lines_with(&[], "schedule 910102050600"));
    assert!(ScheduleFile::parse(&text).is_ok());
}

/// Found by the fuzzer in the first CI run of ci/fuzz.sh: a format line of another version
/// holding a carriage return (and a NUL) made a two-line error.
#[test]
fn another_version_with_a_carriage_return_is_one_line() {
    let e = refused("format lockproof-schedule/\r\u{0}1\nend\n");
    assert_eq!(
        e,
        ScheduleError::Version("lockproof-schedule/\r\u{0}1".into())
    );
    assert_eq!(
        e.to_string(),
        "schedule file format \"lockproof-schedule/\\r\\01\" is not supported; this lockproof reads lockproof-schedule/1"
    );
    // Without one, the version shows as it is.
    assert!(refused("format lockproof-schedule/9\nend\n")
        .to_string()
        .starts_with("schedule file format lockproof-schedule/9 is not"));
}

/// Found by `FUZZ_SECONDS=180 ci/fuzz.sh` after 1.9 million executions: a depth-first
/// schedule with an ideographic space (U+3000, not ASCII whitespace, so inside a word)
/// before a decision panicked the decoder, which cut the word's tag at byte 1.
#[test]
fn a_dfs_decision_starting_with_a_multibyte_character_is_refused_not_a_panic() {
    let text = file(&[
        "scenario ex-8.3-01-fixed-pause",
        "engine dfs",
        "bound 0",
        "time timed",
        "spurious off",
        "pauses 1",
        "pause-span 1500000000",
        "max-steps 20000",
        "kind violation",
        "property mutual-exclusion",
        "message mutual-exclusion violated: 2 threads inside holds /tmp/.exclusive_lock_res (capacity 1)",
        "preemptions 0",
        "found-after 21",
        "trace-digest fc1cf5e91ef4649c",
        "schedule t0 t0 t1 t1 c1 t1 c1 t1 c1 t1 c1 c0 t0 t0 t2 t2 t2 t2 t2 \u{3000}t2 t2 t2 t2 t2 t2",
    ]);
    assert!(matches!(refused(&text), ScheduleError::Bad("schedule", _)));
    // With a plain space it is the corpus' file, and reads.
    let fixed = text.replace('\u{3000}', " ");
    assert!(ScheduleFile::parse(&fixed).is_ok());
}
