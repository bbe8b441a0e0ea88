import CCmark
import Foundation

/// CommonMark to HTML with the reference implementation (libcmark) in its safe mode: raw HTML is
/// dropped (so no `<script>`, no event attributes) and `javascript:`, `vbscript:`, `file:` and
/// non-image `data:` links lose their URL.
public enum Markdown {
    public static func html(_ markdown: String) -> String {
        // CMARK_OPT_UNSAFE is deliberately absent; SMART turns quotes and dashes typographic.
        // CMARK_OPT_SAFE is the default since 0.29; said explicitly in case an older libcmark is loaded.
        let options = CMARK_OPT_DEFAULT | CMARK_OPT_SAFE | CMARK_OPT_SMART | CMARK_OPT_VALIDATE_UTF8
        return markdown.withCString { source in
            guard let rendered = cmark_markdown_to_html(source, strlen(source), options) else { return "" }
            defer { free(rendered) }
            return String(cString: rendered)
        }
    }
}
