import Foundation

/// How text becomes search words, for the in-memory index and its queries alike: runs of letters
/// and digits, lower-cased, accents removed (as FTS5's `unicode61 remove_diacritics 2`).
enum SearchText {
    static func words(_ text: String, into body: (String) -> Void) {
        var current = ""
        var ascii = true
        func flush() {
            guard !current.isEmpty else { return }
            body(ascii ? current : fold(current))
            current = ""
            ascii = true
        }
        for character in text {
            if character.isLetter || character.isNumber {
                if character.isASCII {
                    current.append(character.lowercased())
                } else {
                    ascii = false
                    current.append(character)
                }
            } else {
                flush()
            }
        }
        flush()
    }

    static func words(_ text: String) -> [String] {
        var result: [String] = []
        words(text) { result.append($0) }
        return result
    }

    private static func fold(_ word: String) -> String {
        word.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil).lowercased()
    }

    /// An excerpt of `text` around the first query word, HTML-escaped, words matching the query
    /// (or starting with the prefix) in `<mark>`. Nil when no query word occurs in `text`.
    static func snippet(_ text: String, words: Set<String>, prefix: String?, radius: Int = 8) -> String? {
        // Split into tokens keeping separators, so the excerpt reads as written.
        var tokens: [(text: String, isWord: Bool)] = []
        var current = ""
        var currentIsWord = false
        for character in text {
            let isWord = character.isLetter || character.isNumber
            if !current.isEmpty && isWord != currentIsWord {
                tokens.append((current, currentIsWord))
                current = ""
            }
            current.append(character)
            currentIsWord = isWord
        }
        if !current.isEmpty { tokens.append((current, currentIsWord)) }
        func matches(_ token: String) -> Bool {
            var folded = ""
            SearchText.words(token) { folded = $0 }
            return words.contains(folded) || (prefix.map { folded.hasPrefix($0) } ?? false)
        }
        guard let first = tokens.indices.first(where: { tokens[$0].isWord && matches(tokens[$0].text) }) else { return nil }
        var wordIndices = tokens.indices.filter { tokens[$0].isWord }
        let position = wordIndices.firstIndex(of: first)!
        let startWord = max(0, position - radius / 2)
        let endWord = min(wordIndices.count - 1, position + radius * 3 / 2)
        // From the text's start or end, keep the punctuation around the first or last word.
        let start = startWord == 0 ? 0 : wordIndices[startWord]
        let end = endWord == wordIndices.count - 1 ? tokens.count - 1 : wordIndices[endWord]
        wordIndices.removeAll()
        var html = start > 0 ? "…" : ""
        for index in start...end {
            let token = tokens[index]
            let escaped = escape(token.text.replacingOccurrences(of: "\n", with: " "))
            html += token.isWord && matches(token.text) ? "<mark>\(escaped)</mark>" : escaped
        }
        if end < tokens.count - 1 { html += "…" }
        return html
    }

    static func escape(_ text: String) -> String {
        var html = ""
        for character in text {
            switch character {
            case "&": html += "&amp;"
            case "<": html += "&lt;"
            case ">": html += "&gt;"
            case "\"": html += "&quot;"
            case "'": html += "&#39;"
            default: html.append(character)
            }
        }
        return html
    }
}
