//! Every example and rule of chapters 1–9 is accounted for in `corpus/catalogue/`: a
//! scenario with the same verdict, a test that exists, or a reason why there is nothing to
//! check (`lockproof coverage --check`).

mod common;

#[test]
fn corpus_accounts_for_every_example_and_rule() {
    let cov = lockproof_cli::coverage::compute(&common::root(), &lockproof_cli::registry::all());
    println!("{}", lockproof_cli::coverage::table(&cov));
    assert!(
        cov.problems.is_empty(),
        "{} problems, first ones:\n{}",
        cov.problems.len(),
        cov.problems
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
