import Foundation

/// An edge of the module graph: `from` imports `to`.
struct Edge: Hashable, Comparable, CustomStringConvertible {
    let from: String
    let to: String

    var description: String { "\(from) --> \(to)" }
    static func < (a: Edge, b: Edge) -> Bool { (a.from, a.to) < (b.from, b.to) }
}

/// The package as the three sources of truth describe it: the diagram in README.md, the targets of
/// Package.swift, and the `import` lines under Sources/. Read from the checkout this file is in.
struct Repository {
    let root: URL

    init(root: URL = Repository.locateRoot()) { self.root = root }

    /// The folder holding Package.swift, found upwards from this file
    /// (Tests/SoukArchitectureTests/ModuleGraph.swift).
    static func locateRoot(from filePath: String = #filePath) -> URL {
        var folder = URL(fileURLWithPath: filePath).deletingLastPathComponent()
        while folder.path != "/" {
            if FileManager.default.fileExists(atPath: folder.appendingPathComponent("Package.swift").path) {
                return folder
            }
            folder.deleteLastPathComponent()
        }
        return URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    func text(_ relativePath: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(relativePath), encoding: .utf8)
    }
}

// MARK: - README.md: the mermaid diagram

struct Diagram {
    var nodes: Set<String> = []
    var edges: Set<Edge> = []
    /// Lines of the block that are neither an edge, a node nor a comment.
    var unreadable: [String] = []

    func allows(_ from: String, importing to: String) -> Bool { edges.contains(Edge(from: from, to: to)) }

    /// The first ```mermaid block of the README: `graph TD`, then one `A --> B` per line (a lone
    /// `A` declares a node without edges; `%%` starts a comment).
    static func parse(readme: String) -> Diagram? {
        let lines = readme.components(separatedBy: "\n")
        guard let start = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "```mermaid" }),
            let end = lines[(start + 1)...].firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "```" })
        else { return nil }
        var diagram = Diagram()
        let edge = /^([A-Za-z_][A-Za-z0-9_]*)\s*-->\s*([A-Za-z_][A-Za-z0-9_]*)$/
        let node = /^([A-Za-z_][A-Za-z0-9_]*)$/
        for raw in lines[(start + 1)..<end] {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("%%") || line == "graph TD" || line == "flowchart TD" { continue }
            if let match = line.wholeMatch(of: edge) {
                let (from, to) = (String(match.1), String(match.2))
                diagram.nodes.formUnion([from, to])
                diagram.edges.insert(Edge(from: from, to: to))
            } else if let match = line.wholeMatch(of: node) {
                diagram.nodes.insert(String(match.1))
            } else {
                diagram.unreadable.append(line)
            }
        }
        return diagram
    }
}

// MARK: - Package.swift: targets and their dependencies

struct PackageTarget {
    enum Kind: String { case target, executableTarget, systemLibrary, testTarget, plugin }
    let kind: Kind
    let name: String
    /// String entries of `dependencies:`: other targets of this package.
    let internalDependencies: [String]
    /// `.product(name:…)` entries: modules of other packages.
    let products: [String]
}

enum PackageManifest {
    /// The `.target`, `.executableTarget`, `.systemLibrary`, `.testTarget` and `.plugin` entries,
    /// read from the manifest's text (comments dropped; brackets balanced, strings skipped).
    static func targets(in manifest: String) -> [PackageTarget] {
        let source = Array(withoutComments(manifest))
        var targets: [PackageTarget] = []
        var index = 0
        while index < source.count {
            guard source[index] == ".", let (kind, open) = kindAt(source, index + 1) else {
                index += 1
                continue
            }
            let close = matching(source, open)
            let body = String(source[(open + 1)..<close])
            if let name = body.firstMatch(of: /name:\s*"([^"]+)"/).map({ String($0.1) }) {
                let (strings, products) = dependencies(in: body)
                targets.append(
                    PackageTarget(kind: kind, name: name, internalDependencies: strings, products: products))
            }
            index = close + 1
        }
        return targets
    }

    private static func kindAt(_ source: [Character], _ start: Int) -> (PackageTarget.Kind, Int)? {
        var end = start
        while end < source.count, source[end].isLetter { end += 1 }
        guard end < source.count, source[end] == "(", let kind = PackageTarget.Kind(rawValue: String(source[start..<end]))
        else { return nil }
        return (kind, end)
    }

    /// The index of the bracket closing the one at `open`, skipping string literals.
    private static func matching(_ source: [Character], _ open: Int) -> Int {
        var depth = 0
        var inString = false
        var index = open
        while index < source.count {
            let character = source[index]
            if inString {
                if character == "\\" { index += 1 } else if character == "\"" { inString = false }
            } else if character == "\"" {
                inString = true
            } else if "([".contains(character) {
                depth += 1
            } else if ")]".contains(character) {
                depth -= 1
                if depth == 0 { return index }
            }
            index += 1
        }
        return source.count - 1
    }

    /// The top-level string entries (internal) and `.product(name:)` entries (external) of the
    /// body's `dependencies: [...]`.
    private static func dependencies(in body: String) -> ([String], [String]) {
        let characters = Array(body)
        guard let label = body.range(of: "dependencies:") else { return ([], []) }
        var open = body.distance(from: body.startIndex, to: label.upperBound)
        while open < characters.count, characters[open] != "[" { open += 1 }
        guard open < characters.count else { return ([], []) }
        let close = matching(characters, open)
        var strings: [String] = []
        var products: [String] = []
        var index = open + 1
        while index < close {
            let character = characters[index]
            if character == "\"" {
                var end = index + 1
                while end < close, characters[end] != "\"" { end += 1 }
                strings.append(String(characters[(index + 1)..<end]))
                index = end + 1
            } else if character == "(" {
                let end = matching(characters, index)
                let entry = String(characters[index...end])
                if let name = entry.firstMatch(of: /name:\s*"([^"]+)"/) { products.append(String(name.1)) }
                index = end + 1
            } else {
                index += 1
            }
        }
        return (strings, products)
    }

    /// The manifest without `//` and `/* */` comments (outside string literals), so a bracket or
    /// a quote in a comment cannot confuse the reading.
    static func withoutComments(_ text: String) -> String {
        let characters = Array(text)
        var output: [Character] = []
        var index = 0
        var inString = false
        while index < characters.count {
            let character = characters[index]
            let next: Character? = index + 1 < characters.count ? characters[index + 1] : nil
            if inString {
                output.append(character)
                if character == "\\", let next {
                    output.append(next)
                    index += 1
                } else if character == "\"" {
                    inString = false
                }
            } else if character == "/" && next == "/" {
                while index < characters.count, characters[index] != "\n" { index += 1 }
                continue
            } else if character == "/" && next == "*" {
                index += 2
                while index + 1 < characters.count, !(characters[index] == "*" && characters[index + 1] == "/") {
                    index += 1
                }
                index += 2
                continue
            } else {
                if character == "\"" { inString = true }
                output.append(character)
            }
            index += 1
        }
        return String(output)
    }
}

// MARK: - Sources/: every import line

struct Import {
    /// The target: the folder under Sources/.
    let target: String
    /// Relative to the package root, e.g. `Sources/SoukCore/Clock.swift`.
    let file: String
    let line: Int
    let module: String
}

struct SourceTree {
    /// Every folder under Sources/ (one per target).
    let targets: [String]
    let swiftFiles: [String]
    let imports: [Import]

    /// `import X`, `@testable import X`, `@_exported import X`, `@_spi(S) import X`,
    /// `public import X`, `import struct X.Y`, `import X.Submodule`: X is the module.
    static var importLine: Regex<(Substring, Substring)> {
        /^\s*(?:@[A-Za-z_]+(?:\([^)]*\))?\s+)*(?:(?:public|package|internal|fileprivate|private)\s+)?import\s+(?:(?:typealias|struct|class|enum|protocol|let|var|func)\s+)?([A-Za-z_][A-Za-z0-9_]*)/
    }

    static func read(root: URL) throws -> SourceTree {
        let sources = root.appendingPathComponent("Sources")
        let manager = FileManager.default
        let targets = try manager.contentsOfDirectory(atPath: sources.path).filter { name in
            var isFolder: ObjCBool = false
            return manager.fileExists(atPath: sources.appendingPathComponent(name).path, isDirectory: &isFolder)
                && isFolder.boolValue && !name.hasPrefix(".")
        }.sorted()
        var files: [String] = []
        var imports: [Import] = []
        let importLine = Self.importLine
        for target in targets {
            let folder = sources.appendingPathComponent(target)
            guard let walker = manager.enumerator(atPath: folder.path) else { continue }
            for case let relative as String in walker where relative.hasSuffix(".swift") {
                let file = "Sources/\(target)/\(relative)"
                files.append(file)
                let text = try String(contentsOf: folder.appendingPathComponent(relative), encoding: .utf8)
                for (offset, line) in text.components(separatedBy: "\n").enumerated() {
                    if let match = line.prefixMatch(of: importLine) {
                        imports.append(Import(target: target, file: file, line: offset + 1, module: String(match.1)))
                    }
                }
            }
        }
        return SourceTree(targets: targets, swiftFiles: files.sorted(), imports: imports)
    }
}
