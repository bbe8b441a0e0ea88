import Foundation
import Testing

/// The module diagram in README.md is the law: every `import` under Sources/ of one of the
/// package's own modules must be an edge of it, and Package.swift must declare exactly its edges.
/// Build-time tools (the targets a `.plugin` depends on) are not modules of the store: they are
/// left out of the diagram and may import none of its modules.
@Suite("Architecture: the README's module diagram is the import graph")
struct ImportGraphTests {
    let repository = Repository()

    func diagram() throws -> Diagram {
        let diagram = try #require(
            Diagram.parse(readme: try repository.text("README.md")), "README.md has no ```mermaid block")
        #expect(diagram.unreadable.isEmpty, "lines of the README's diagram that are not `A --> B`: \(diagram.unreadable)")
        return diagram
    }

    func manifest() throws -> (modules: [PackageTarget], buildTools: Set<String>) {
        let targets = PackageManifest.targets(in: try repository.text("Package.swift"))
        let buildTools = Set(targets.filter { $0.kind == .plugin }.flatMap(\.internalDependencies))
        let modules = targets.filter {
            [.target, .executableTarget, .systemLibrary].contains($0.kind) && !buildTools.contains($0.name)
        }
        return (modules, buildTools)
    }

    @Test("Every import of one of our modules under Sources/ is an edge of the diagram")
    func importsFollowTheDiagram() throws {
        let diagram = try diagram()
        let (_, buildTools) = try manifest()
        let tree = try SourceTree.read(root: repository.root)
        for found in tree.imports where diagram.nodes.contains(found.module) && found.module != found.target {
            if buildTools.contains(found.target) {
                record(found, "\(found.target) is a build tool and may import none of the store's modules")
            } else if !diagram.allows(found.target, importing: found.module) {
                record(found, "the README's diagram has no edge `\(found.target) --> \(found.module)`")
            }
        }
    }

    @Test("Package.swift declares exactly the diagram's edges, between exactly its nodes")
    func manifestMatchesTheDiagram() throws {
        let diagram = try diagram()
        let (modules, _) = try manifest()
        let declared = Set(modules.flatMap { target in
            target.internalDependencies.map { Edge(from: target.name, to: $0) }
        })
        for edge in declared.subtracting(diagram.edges).sorted() {
            Issue.record("Package.swift declares \(edge), which the README's diagram lacks")
        }
        for edge in diagram.edges.subtracting(declared).sorted() {
            Issue.record("the README's diagram has \(edge), which Package.swift does not declare")
        }
        let names = Set(modules.map(\.name))
        for name in names.subtracting(diagram.nodes).sorted() {
            Issue.record("Package.swift's target \(name) is not a node of the README's diagram")
        }
        for node in diagram.nodes.subtracting(names).sorted() {
            Issue.record("the README's diagram has \(node), which is not a target of Package.swift")
        }
    }

    @Test("Only SoukDatabase imports GRDB (in code and in Package.swift)")
    func onlyTheDatabaseKnowsGRDB() throws {
        let tree = try SourceTree.read(root: repository.root)
        let grdb = tree.imports.filter { $0.module.hasPrefix("GRDB") }
        #expect(!grdb.isEmpty, "no file imports GRDB at all: is Sources/SoukDatabase read?")
        for found in grdb where found.target != "SoukDatabase" {
            record(found, "only SoukDatabase may import \(found.module)")
        }
        let (modules, _) = try manifest()
        for target in modules where target.name != "SoukDatabase" {
            for product in target.products where product.hasPrefix("GRDB") {
                Issue.record("Package.swift gives \(target.name) the \(product) product; only SoukDatabase may have it")
            }
        }
    }

    @Test("SoukPayments does not import SoukDatabase: providers know the domain, not the storage")
    func paymentsStayOffTheDatabase() throws {
        let tree = try SourceTree.read(root: repository.root)
        #expect(tree.swiftFiles.contains { $0.hasPrefix("Sources/SoukPayments/") }, "no file in Sources/SoukPayments")
        for found in tree.imports where found.target == "SoukPayments" && found.module == "SoukDatabase" {
            record(found, "SoukPayments may not import SoukDatabase")
        }
        let allowed = try diagram().allows("SoukPayments", importing: "SoukDatabase")
        #expect(!allowed, "the README's diagram lets SoukPayments import SoukDatabase")
    }

    @Test("The check reads the real tree: over 100 files, every Sources/ folder a node or a build tool")
    func notVacuous() throws {
        let diagram = try diagram()
        let (modules, buildTools) = try manifest()
        let tree = try SourceTree.read(root: repository.root)
        #expect(tree.swiftFiles.count > 100, "only \(tree.swiftFiles.count) Swift files under \(repository.root.path)/Sources")
        #expect(tree.imports.count > tree.swiftFiles.count, "only \(tree.imports.count) imports read")
        #expect(diagram.edges.count > 20, "only \(diagram.edges.count) edges in the README's diagram")
        #expect(modules.count > 10, "only \(modules.count) targets read from Package.swift")
        for target in tree.targets where !diagram.nodes.contains(target) && !buildTools.contains(target) {
            Issue.record("Sources/\(target) is not a node of the README's diagram")
        }
        // Each node's imports are read: every Swift target imports at least one module.
        let importing = Set(tree.imports.map(\.target))
        let swiftTargets = Set(tree.swiftFiles.map { $0.split(separator: "/")[1] }.map(String.init))
        #expect(swiftTargets.subtracting(importing).isEmpty, "Swift targets with no import read: \(swiftTargets.subtracting(importing))")
    }

    /// An issue placed at the offending line, so the failure names the file, the line and the module.
    private func record(_ found: Import, _ reason: String) {
        Issue.record(
            "\(found.file):\(found.line): imports \(found.module): \(reason)",
            sourceLocation: SourceLocation(
                fileID: "\(found.target)/\((found.file as NSString).lastPathComponent)",
                filePath: repository.root.appendingPathComponent(found.file).path, line: found.line, column: 1))
    }
}
