/// Text made safe to put in HTML (element content or a quoted attribute value), for the places
/// that build HTML without a template: search snippets and e-mails.
public enum HTMLText {
    public static func escape(_ text: String) -> String {
        var html = ""
        html.reserveCapacity(text.utf8.count)
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
