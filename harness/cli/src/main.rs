//! The `lockproof` binary: see `lockproof help`.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(lockproof_cli::cli::main(args));
}
