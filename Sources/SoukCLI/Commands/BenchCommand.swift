import ArgumentParser
import Foundation
import SoukCore
import SoukDatabase
import SoukHTTP

/// `souk bench search`: the search engine alone, in-process, over a query mix. The HTTP figures
/// come from wrk against `souk serve` on the same data (see Benchmarks/run.sh).
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Measure the search engine in-process (see Benchmarks/README.md).",
        subcommands: [Search.self], helpNames: [.long])

    struct Search: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a query mix against the catalog for a while; print queries/s, p50 and p99.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "File with one API query string per line (q=swi&category=Books).") var queries: String
        @Option(help: "How long to run, in seconds.") var seconds = 10.0
        @Option(help: "Concurrent searchers.") var concurrency = 2
        @Flag(help: "Skip the category facet counts (ranking only, as the tantivy anchor does).") var noFacets = false
        @Flag(help: "Print one JSON object.") var json = false
        @Option(help: "Also print this many of the mix's slowest queries (median of each; 0: none).") var slowest = 0
        @Option(help: "Also time applying this many product edits to the in-memory index, as one refresh (memory only).")
        var changes: Int?

        func run() async throws {
            let (_, _, database) = try global.open()
            let lines = try String(contentsOfFile: queries, encoding: .utf8).split(separator: "\n")
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
            let mix = try lines.map { line -> ProductQuery in
                var query = try ProductQuery(apiParameters: SearchQueryString.parse(line))
                query.includeFacets = !noFacets
                return query
            }
            guard !mix.isEmpty else { throw ValidationError("\(queries) holds no queries") }
            // Warm the page cache and SQLite's caches once through the mix.
            for query in mix { _ = try await database.search(query) }

            let deadline = ContinuousClock.now + .seconds(seconds)
            let timed = try await withThrowingTaskGroup(of: [(Int, Double)].self) { group in
                for worker in 0..<concurrency {
                    group.addTask {
                        var times: [(Int, Double)] = []
                        var index = worker
                        while ContinuousClock.now < deadline {
                            let start = ContinuousClock.now
                            _ = try await database.search(mix[index % mix.count])
                            let elapsed = ContinuousClock.now - start
                            times.append(
                                (index % mix.count,
                                 Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1e3))
                            index += concurrency
                        }
                        return times
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            let latencies = timed.map(\.1).sorted()
            let count = latencies.count
            guard count > 0 else { throw ValidationError("no query finished in \(seconds) s: run longer") }
            let qps = Double(count) / seconds
            let p50 = latencies[count / 2]
            let p99 = latencies[min(count - 1, Int(Double(count) * 0.99))]
            let products = try await database.search(ProductQuery()).categoryFacets.values.reduce(0, +)
            if slowest > 0 {
                let medians = Dictionary(grouping: timed, by: \.0).map { index, samples -> (String, Double) in
                    let sorted = samples.map(\.1).sorted()
                    return (lines[index], sorted[sorted.count / 2])
                }.sorted { $0.1 > $1.1 }
                for (line, median) in medians.prefix(slowest) { print(String(format: "  %8.2f ms  %@", median, line)) }
            }
            if let changes, let took = try await database.replaySearchChanges(count: changes) {
                let ms = Double(took.components.attoseconds) / 1e15 + Double(took.components.seconds) * 1e3
                print(String(format: "index: %d product changes applied in one refresh in %.1f ms", changes, ms))
            }
            if json {
                print(#"{"engine":"souk","products":\#(products),"queries":\#(count),"qps":\#(Int(qps)),"p50_ms":\#(String(format: "%.3f", p50)),"p99_ms":\#(String(format: "%.3f", p99)),"facets":\#(!noFacets)}"#)
            } else {
                print(String(format: "souk in-process: %d products, %d queries, %.0f q/s, p50 %.2f ms, p99 %.2f ms (facets %@)", products, count, qps, p50, p99, noFacets ? "off" : "on"))
            }
        }
    }
}
