import SoukCLI

/// The executable's entry point: hands the command line to the CLI, nothing else.
/// (An `@main` type, not `main.swift`: ArgumentParser needs it to run an async root command.)
@main
struct SoukMain {
    static func main() async {
        await SoukCommand.main()
    }
}
