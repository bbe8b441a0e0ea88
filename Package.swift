// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

// libvips's headers include glib's, whose configuration header sits in the multiarch folder.
#if arch(arm64)
let multiarch = "aarch64-linux-gnu"
#else
let multiarch = "x86_64-linux-gnu"
#endif

let package = Package(
    name: "souk",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "souk", targets: ["souk"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/vapor/multipart-kit", from: "4.7.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
    ],
    targets: [
        // Domain: types, errors, settings. Foundation only.
        .target(name: "SoukCore", swiftSettings: swiftSettings),
        // glibc's malloc.h: the search index hands a rebuild's freed memory back (malloc_trim).
        .systemLibrary(name: "CMalloc"),
        // Storage: the SQLite database, migrations, records and named writes.
        .target(
            name: "SoukDatabase",
            dependencies: [
                "SoukCore", "CMalloc",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // Markdown → sanitised HTML with libcmark (apt: libcmark-dev), safe mode.
        .systemLibrary(name: "CCmark", pkgConfig: "libcmark", providers: [.apt(["libcmark-dev"])]),
        .target(name: "SoukMarkdown", dependencies: ["CCmark"], swiftSettings: swiftSettings),
        // Accounts: password hashing, sessions and tokens over the database.
        .target(
            name: "SoukAuth",
            dependencies: [
                "SoukCore", "SoukDatabase",
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // Catalog rules: products, files, pages; validation and Markdown rendering.
        .target(
            name: "SoukCatalog",
            dependencies: ["SoukCore", "SoukDatabase", "SoukMarkdown"],
            swiftSettings: swiftSettings
        ),
        // libcurl (apt: libcurl4-openssl-dev) behind a few C functions Swift can call (curl's
        // setopt is variadic): SMTP with STARTTLS and auth; webhook POSTs pinned to a checked address.
        .target(name: "CSoukCurl", linkerSettings: [.linkedLibrary("curl")]),
        // Images: libvips (apt: libvips-dev) behind a non-variadic C face, and the product images
        // made with it (checked by content, resized, metadata stripped). Only libvips's headers are
        // used at build time: the library is opened on the first picture (souk_image.c says why),
        // so it is not linked (a pkg-config system library would link it and its glib).
        .target(
            name: "CSoukImage",
            cSettings: [.unsafeFlags(["-I/usr/include/glib-2.0", "-I/usr/lib/\(multiarch)/glib-2.0/include"])]
        ),
        .target(name: "SoukImages", dependencies: ["SoukCore", "SoukDatabase", "CSoukImage"], swiftSettings: swiftSettings),
        // Mail: RFC 5322 messages, SMTP through libcurl, or `.eml` files in the outbox.
        .target(name: "SoukMail", dependencies: ["SoukCore", "CSoukCurl"], swiftSettings: swiftSettings),
        // Delivery: the job runner (a ServiceLifecycle service), fulfilment, receipts, signed
        // download links, file update notices, seller webhooks (sent through libcurl).
        .target(
            name: "SoukDelivery",
            dependencies: [
                "SoukCore", "SoukDatabase", "SoukMail", "CSoukCurl", "SoukTemplates",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["Templates"],
            swiftSettings: swiftSettings,
            plugins: ["EmbedTemplates"]
        ),
        // Templates built into the binary and overridable by the theme folder (pages and e-mails).
        .target(
            name: "SoukTemplates", dependencies: [.product(name: "Mustache", package: "swift-mustache")],
            swiftSettings: swiftSettings),
        // Payment providers: Stripe, PayPal and the built-in test provider behind one protocol;
        // webhook signatures; outgoing HTTP through URLSession (libcurl on Linux).
        .target(
            name: "SoukPayments",
            dependencies: [
                "SoukCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: swiftSettings
        ),
        // The money path: checkout, payment events, refunds, order jobs.
        .target(
            name: "SoukOrders",
            dependencies: [
                "SoukCore", "SoukDatabase", "SoukPayments", "SoukDelivery",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The composition root: builds the database's services, the providers, the mailer and
        // the job registry once, for the web layer, the CLI and the tests.
        .target(
            name: "SoukRuntime",
            dependencies: [
                "SoukCore", "SoukDatabase", "SoukAuth", "SoukCatalog", "SoukMail", "SoukPayments", "SoukOrders",
                "SoukDelivery",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The HTTP surface: routes, middleware, pages.
        .target(
            name: "SoukHTTP",
            dependencies: [
                "SoukCore", "SoukDatabase", "SoukAuth", "SoukCatalog", "SoukPayments", "SoukOrders", "SoukDelivery", "SoukImages",
                "SoukRuntime", "SoukTemplates",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "MultipartKit", package: "multipart-kit"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
            ],
            exclude: ["Templates"],
            swiftSettings: swiftSettings,
            plugins: ["EmbedTemplates"]
        ),
        // The operator's command line: configuration and one command per subcommand.
        .target(
            name: "SoukCLI",
            dependencies: [
                "SoukCore", "SoukDatabase", "SoukAuth", "SoukCatalog", "SoukHTTP", "SoukMarkdown", "SoukDelivery",
                "SoukPayments", "SoukOrders", "SoukMail", "SoukRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "souk", dependencies: ["SoukCLI"], swiftSettings: swiftSettings),

        // Build-time embedding of templates and CSS into the binary (no resource bundle).
        .executableTarget(name: "EmbedTool"),
        .plugin(name: "EmbedTemplates", capability: .buildTool(), dependencies: ["EmbedTool"]),

        .testTarget(name: "SoukCoreTests", dependencies: ["SoukCore"], swiftSettings: swiftSettings),
        .testTarget(name: "SoukDatabaseTests", dependencies: ["SoukDatabase", "SoukCore"], swiftSettings: swiftSettings),
        .testTarget(name: "SoukMailTests", dependencies: ["SoukMail", "SoukCore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "SoukDeliveryTests",
            dependencies: [
                "SoukDelivery", "SoukDatabase", "SoukCore",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SoukHTTPTests",
            dependencies: [
                "SoukHTTP", "SoukDatabase", "SoukAuth", "SoukRuntime",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SoukCLITests", dependencies: ["SoukCLI", "SoukDatabase", "SoukHTTP", "SoukDelivery", "SoukRuntime"], swiftSettings: swiftSettings),
        .testTarget(
            name: "SoukOrdersTests",
            dependencies: ["SoukOrders", "SoukPayments", "SoukDatabase", "SoukCore", "SoukDelivery", "SoukMail", "SoukRuntime"],
            swiftSettings: swiftSettings),
        .testTarget(name: "SoukArchitectureTests", swiftSettings: swiftSettings),
    ]
)
