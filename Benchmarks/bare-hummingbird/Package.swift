// swift-tools-version:6.1
// The idle-memory anchor of Benchmarks/run.sh: a bare Hummingbird 2 server answering one route,
// built the way Souk is (release, static Swift standard library), so "idle memory ≤ 1.1× a bare
// Hummingbird server" compares like with like. Not part of the store.
import PackageDescription

let package = Package(
    name: "bare-hummingbird",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    ],
    targets: [
        .executableTarget(
            name: "bare-hummingbird",
            dependencies: [.product(name: "Hummingbird", package: "hummingbird")]
        ),
    ]
)
