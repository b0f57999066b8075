fn main() -> std::process::ExitCode {
    match kasdesa::cli::main_entry() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}
