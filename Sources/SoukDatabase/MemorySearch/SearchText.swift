import Foundation
import SoukCore

/// How text becomes search words, for the in-memory index and its queries alike: runs of letters
/// and digits, lower-cased, accents removed (as FTS5's `unicode61 remove_diacritics 2`).
enum SearchText {
    static func words(_ text: String, into body: (String) -> Void) {
        var current = String.UnicodeScalarView()
        var ascii = true
        func flush() {
            guard !current.isEmpty else { return }
            let word = String(current)
            body(ascii ? word : fold(word))
            current = String.UnicodeScalarView()
            ascii = true
        }
        for scalar in text.unicodeScalars {
            if scalar.isASCII {
                let value = scalar.value
                if value >= 65 && value <= 90 {  // A-Z
                    current.append(Unicode.Scalar(value + 32)!)
                } else if (value >= 97 && value <= 122) || (value >= 48 && value <= 57) {
                    current.append(scalar)
                } else {
                    flush()
                }
            } else if scalar.properties.isAlphabetic || scalar.properties.numericType != nil {
                ascii = false
                current.append(scalar)
            } else if scalar.properties.generalCategory == .nonspacingMark && !current.isEmpty {
                ascii = false
                current.append(scalar)  // a combining accent belongs to its letter
            } else {
                flush()
            }
        }
        flush()
    }

    /// The other forms a query word may take in a product: its singular and plural
    /// ("templates" finds "template", "maker" finds "makers" and, since an apostrophe splits
    /// words, "Maker's"). A light English rule on purpose: a miss costs a little recall, a
    /// wrong stem would cost precision, and both engines expand queries the same way.
    static func otherForms(of word: String) -> [String] {
        guard word.count >= 3, word.allSatisfy(\.isLetter) else { return [] }
        let sibilant = ["s", "x", "z", "ch", "sh"]
        var stem = word
        if word.hasSuffix("ies") && word.count > 4 {
            stem = String(word.dropLast(3)) + "y"
        } else if word.hasSuffix("es"), ["ss", "x", "z", "ch", "sh"].contains(where: { word.dropLast(2).hasSuffix($0) }) {
            stem = String(word.dropLast(2))
        } else if word.hasSuffix("s") && !word.hasSuffix("ss") && !word.hasSuffix("us") && !word.hasSuffix("is") && word.count > 3 {
            stem = String(word.dropLast())
        }
        var forms = [stem]
        if stem.hasSuffix("y"), let before = stem.dropLast().last, !"aeiou".contains(before) {
            forms.append(String(stem.dropLast()) + "ies")
        } else if sibilant.contains(where: { stem.hasSuffix($0) }) {
            forms.append(stem + "es")
        } else {
            forms.append(stem + "s")
        }
        return forms.filter { $0 != word }
    }

    static func words(_ text: String) -> [String] {
        var result: [String] = []
        words(text) { result.append($0) }
        return result
    }

    private static func fold(_ word: String) -> String {
        word.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil).lowercased()
    }

    /// An excerpt of `text` around the first query word, HTML-escaped, on one line, words matching
    /// the query (or starting with the prefix) in `<mark>`: up to `radius / 2` words before it and
    /// `radius * 3 / 2` after. Nil when no query word occurs in the first 4,000 scalars of `text`.
    static func snippet(_ text: String, words: Set<String>, prefix: String?, radius: Int = 8) -> String? {
        var text = text
        return text.withUTF8 { bytes in
            var cutter = SnippetCutter(bytes, words: words, prefix: prefix)
            return cutter.snippet(before: radius / 2, after: radius * 3 / 2)
        }
    }

    /// Escaped for HTML, on one line (a snippet never breaks): "\r\n", "\n" and "\r" become a space.
    static func escape(_ text: String) -> String {
        var text = text
        return text.withUTF8 { bytes in
            var html: [UInt8] = []
            SnippetCutter.appendEscaped(bytes[...], to: &html)
            return String(decoding: html, as: UTF8.self)
        }
    }

    /// A description's Markdown read as plain text, for snippets: headings, emphasis, code marks,
    /// quotes and list bullets go, a link keeps its words and loses its address. (Approximate on
    /// purpose: a snippet is a glimpse, and the product page renders the real thing.)
    ///
    /// Passes over the UTF-8 bytes, one per rule below; it runs for every hit of every search
    /// (the same rules as regular expressions took 52 % of a search's time). Every byte it looks
    /// for is ASCII, so a multi-byte character is never split. `withoutMarkdownByPatterns` is the
    /// reference the tests hold it to.
    static func withoutMarkdown(_ text: String) -> String {
        var bytes = Array(text.utf8)
        bytes = linksAsTheirWords(bytes)
        bytes = withoutLineMarkers(bytes)
        bytes.removeAll { $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "`") || $0 == UInt8(ascii: "~") }
        let plain = String(decoding: bytes, as: UTF8.self)
        return bytes.contains(UInt8(ascii: "_")) ? withoutEmphasisUnderscores(plain) : plain
    }

    /// [words](address) and ![alt](address) → words (neither part spanning lines).
    private static func linksAsTheirWords(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.contains(UInt8(ascii: "[")) else { return bytes }
        let newline = UInt8(ascii: "\n")
        var out = [UInt8]()
        out.reserveCapacity(bytes.count)
        var index = 0
        scanning: while index < bytes.count {
            let open = bytes[index] == UInt8(ascii: "!") && index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "[")
                ? index + 1 : index
            if bytes[open] == UInt8(ascii: "[") {
                var close = open + 1
                while close < bytes.count, bytes[close] != UInt8(ascii: "]"), bytes[close] != newline { close += 1 }
                if close + 1 < bytes.count, bytes[close] == UInt8(ascii: "]"), bytes[close + 1] == UInt8(ascii: "(") {
                    var end = close + 2
                    while end < bytes.count, bytes[end] != UInt8(ascii: ")"), bytes[end] != newline { end += 1 }
                    if end < bytes.count, bytes[end] == UInt8(ascii: ")") {
                        out.append(contentsOf: bytes[(open + 1)..<close])
                        index = end + 1
                        continue scanning
                    }
                }
            }
            out.append(bytes[index])
            index += 1
        }
        return out
    }

    /// At each line's start, up to three spaces or tabs then a heading (`#`…`######` and blanks),
    /// a quote (`>` and one blank) or a bullet (`-`, `*` or `+` and blanks) go.
    private static func withoutLineMarkers(_ bytes: [UInt8]) -> [UInt8] {
        let space = UInt8(ascii: " "), tab = UInt8(ascii: "\t")
        func isBlank(_ at: Int) -> Bool { at < bytes.count && (bytes[at] == space || bytes[at] == tab) }
        var out = [UInt8]()
        out.reserveCapacity(bytes.count)
        var index = 0
        var atLineStart = true
        while index < bytes.count {
            if atLineStart {
                atLineStart = false
                var marker = index
                while marker - index < 3, isBlank(marker) { marker += 1 }
                var end: Int?
                if marker < bytes.count {
                    switch bytes[marker] {
                    case UInt8(ascii: "#"):
                        var hashes = marker
                        while hashes < bytes.count, bytes[hashes] == UInt8(ascii: "#") { hashes += 1 }
                        if hashes - marker <= 6, isBlank(hashes) {
                            end = hashes
                            while isBlank(end!) { end! += 1 }
                        }
                    case UInt8(ascii: ">"):
                        end = isBlank(marker + 1) ? marker + 2 : marker + 1
                    case UInt8(ascii: "-"), UInt8(ascii: "*"), UInt8(ascii: "+"):
                        if isBlank(marker + 1) {
                            end = marker + 1
                            while isBlank(end!) { end! += 1 }
                        }
                    default: break
                    }
                }
                if let end {
                    index = end
                    continue
                }
            }
            if bytes[index] == UInt8(ascii: "\n") { atLineStart = true }
            out.append(bytes[index])
            index += 1
        }
        return out
    }

    /// Underscores go where they mark emphasis, not inside words (`snake_case` stays).
    private static func withoutEmphasisUnderscores(_ text: String) -> String {
        let characters = Array(text)
        var plain = ""
        plain.reserveCapacity(text.utf8.count)
        for (index, character) in characters.enumerated() {
            if character == "_" {
                let before = index > 0 ? characters[index - 1] : " "
                let after = index + 1 < characters.count ? characters[index + 1] : " "
                let inWord = (before.isLetter || before.isNumber || before == "_") && (after.isLetter || after.isNumber || after == "_")
                if !inWord { continue }
            }
            plain.append(character)
        }
        return plain
    }

    /// The same rules as regular expressions: slower, plainly right; what the tests compare with.
    /// (They match Characters, and "\r\n" is one: there a link may span a line break.)
    static func withoutMarkdownByPatterns(_ text: String) -> String {
        var out = text
        out = out.replacing(/!?\[([^\]\n]*)\]\([^)\n]*\)/) { String($0.output.1) }
        out = out.replacing(/(?m)^[ \t]{0,3}(?:#{1,6}[ \t]+|>[ \t]?|[-*+][ \t]+)/) { _ in "" }
        out = out.replacing(/[*`~]+/) { _ in "" }
        return withoutEmphasisUnderscores(out)
    }

}
