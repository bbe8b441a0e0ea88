import Foundation
import SoukCore
import Testing

@testable import SoukDatabase

@Suite("Snippets: a description's Markdown read as plain text")
struct SearchTextTests {
    @Test("Links keep their words, line markers and emphasis go, words keep their underscores")
    func plainText() {
        let markdown = """
            ## SQL Guide
            > A *quick* tour of `SELECT`, ~~old~~ and __new__.
              - See [the docs](https://example.com/docs) and ![a chart](chart.png)
            ####### seven hashes stay
            snake_case_name stays; _emphasis_ goes; 1_000 stays
            """
        #expect(SearchText.withoutMarkdown(markdown) == """
            SQL Guide
            A quick tour of SELECT, old and new.
            See the docs and a chart
            ####### seven hashes stay
            snake_case_name stays; emphasis goes; 1_000 stays
            """.replacingOccurrences(of: "old and new", with: "old and _new_"))
    }

    @Test("The fast pass says what the regular expressions say, on thousands of made-up descriptions")
    func sameAsThePatterns() {
        // Pieces that start, end or break each rule, with multi-byte characters between them. No
        // "\r\n": the patterns match Characters, and "\r\n" is one that is not "\n", so a link
        // could span such a line break there (and not in the fast pass).
        let pieces = ["#", "##", "#######", " ", "  ", "    ", "\t", "\n", ">", "> ", "-", "- ", "*", "* ", "+ ",
                      "**", "`", "~~", "_", "__", "[", "]", "(", ")", "![", "](", "[a](b)", "[é](ü)", "word", "snake_case",
                      "é", "日本", "🙂", "a_b", "x", "1", "!"]
        var random = SystemRandomNumberGenerator()
        for _ in 0..<5000 {
            let text = (0..<Int.random(in: 0...30, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined()
            let fast = SearchText.withoutMarkdown(text), reference = SearchText.withoutMarkdownByPatterns(text)
            #expect(fast == reference, "\(text.debugDescription): \(fast.debugDescription) ≠ \(reference.debugDescription)")
        }
    }

    @Test("A snippet: the words around the first match, marked, escaped, on one line")
    func snippetShape() {
        let text = "Intro: one two three four five six seven GUIDE eight nine ten eleven twelve thirteen fourteen. "
            + "Fifteen sixteen seventeen eighteen nineteen, twenty."
        #expect(SearchText.snippet(text, words: ["guide"], prefix: nil)
            == "…four five six seven <mark>GUIDE</mark> eight nine ten eleven twelve thirteen fourteen. "
            + "Fifteen sixteen seventeen eighteen nineteen…")
        #expect(SearchText.snippet("Two words, then guide!", words: ["guide"], prefix: nil) == "Two words, then <mark>guide</mark>!")
        #expect(SearchText.snippet("A guide\r\nfor <you> & \"them\"", words: ["guide"], prefix: nil)
            == "A <mark>guide</mark> for &lt;you&gt; &amp; &quot;them&quot;")
        #expect(SearchText.snippet("Templates, template", words: [], prefix: "templ") == "<mark>Templates</mark>, <mark>template</mark>")
        #expect(SearchText.snippet("Crème brûlée", words: ["creme"], prefix: nil) == "<mark>Crème</mark> brûlée")
        #expect(SearchText.snippet("nothing here", words: ["guide"], prefix: nil) == nil)
    }

    @Test("The one-pass snippet says what the whole-text tokens said, on thousands of made-up texts")
    func snippetSameAsTokens() {
        let pieces = [" ", "  ", ", ", ".", "\n", "\r\n", "\r", "-", "<", "&", "\"", "'", "guide", "Guide", "GUIDES",
                      "guidance", "learn", "Crème", "creme", "Straße", "é", "日本", "🙂", "x", "42", "a1", "templates"]
        let queries: [(Set<String>, String?)] = [
            (["guide"], nil), (["guide", "guides"], nil), ([], "gui"), (["learn"], "tem"), (["creme"], nil),
            (["日本"], nil), (["42"], nil), (["strasse"], nil), ([], "x"),
        ]
        var random = SystemRandomNumberGenerator()
        for _ in 0..<5000 {
            let text = (0..<Int.random(in: 0...40, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined()
            let (words, prefix) = queries.randomElement(using: &random)!
            let radius = [8, 8, 8, 0, 1, 2, 3].randomElement(using: &random)!
            let fast = SearchText.snippet(text, words: words, prefix: prefix, radius: radius)
            let reference = Self.snippetByTokens(text, words: words, prefix: prefix, radius: radius)
            #expect(fast == reference, "\(text.debugDescription) \(words) \(prefix ?? "-") r\(radius): \(fast.debugDescription) ≠ \(reference.debugDescription)")
        }
    }

    /// The snippet as it was first written: every token of the text, then the window. Slow (it
    /// built strings for every token), kept to hold the one-pass version to the same answers.
    static func snippetByTokens(_ text: String, words: Set<String>, prefix: String?, radius: Int) -> String? {
        let scalars = Array(text.unicodeScalars.prefix(4000))
        func isWord(_ scalar: Unicode.Scalar) -> Bool {
            scalar.isASCII
                ? (scalar.value >= 48 && scalar.value <= 57) || ((scalar.value | 0x20) >= 97 && (scalar.value | 0x20) <= 122)
                : scalar.properties.isAlphabetic || scalar.properties.numericType != nil
        }
        var tokens: [(range: Range<Int>, isWord: Bool)] = []
        var index = 0
        while index < scalars.count {
            let kind = isWord(scalars[index])
            var next = index + 1
            while next < scalars.count && isWord(scalars[next]) == kind { next += 1 }
            tokens.append((index..<next, kind))
            index = next
        }
        func string(_ range: Range<Int>) -> String {
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars[range])
            return String(view)
        }
        func matches(_ token: Int) -> Bool {
            guard tokens[token].isWord else { return false }
            var folded = ""
            SearchText.words(string(tokens[token].range)) { folded += $0 }
            return words.contains(folded) || (prefix.map { folded.hasPrefix($0) } ?? false)
        }
        func escape(_ text: String) -> String {
            HTMLText.escape(text.replacingOccurrences(of: "\r\n", with: " ").replacingOccurrences(of: "\n", with: " ")
                .replacingOccurrences(of: "\r", with: " "))
        }
        guard let first = tokens.indices.first(where: matches) else { return nil }
        let wordTokens = tokens.indices.filter { tokens[$0].isWord }
        let position = wordTokens.firstIndex(of: first)!
        let startWord = max(0, position - radius / 2)
        let endWord = min(wordTokens.count - 1, position + radius * 3 / 2)
        let start = startWord == 0 ? 0 : wordTokens[startWord]
        let end = endWord == wordTokens.count - 1 ? tokens.count - 1 : wordTokens[endWord]
        var html = start > 0 ? "…" : ""
        for token in start...end {
            let escaped = escape(string(tokens[token].range))
            html += matches(token) ? "<mark>\(escaped)</mark>" : escaped
        }
        if end < tokens.count - 1 { html += "…" }
        return html
    }
}
