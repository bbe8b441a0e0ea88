import ArgumentParser

/// `souk`: the store's single binary. Every subcommand works on the same data folder, including
/// while `souk serve` runs.
public struct SoukCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "souk",
        abstract: "A self-hosted store for digital products.",
        subcommands: [
            ServeCommand.self, MigrateCommand.self, ConfigCommand.self, UserCommand.self, SellerCommand.self,
            ProductCommand.self, OrderCommand.self, PayoutsCommand.self, DemoCommand.self, BenchCommand.self,
            JobsCommand.self, BackupCommand.self, AnnounceCommand.self, ExportCommand.self, ReviewCommand.self,
            RoutesCommand.self,
        ],
        defaultSubcommand: nil
    )

    public init() {}
}
