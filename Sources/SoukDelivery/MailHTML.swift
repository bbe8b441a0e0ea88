import Foundation
import SoukCore

/// The HTML of the store's e-mails: one small inline style sheet (mail clients drop linked ones)
/// and escaping of every value put into it.
enum MailHTML {
    static func escape(_ text: String) -> String { HTMLText.escape(text) }

    static func document(title: String, body: [String]) -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title))</title>
        <style>
        body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d1d1f; background: #fafaf7; margin: 0; padding: 1.5rem; }
        main { max-width: 560px; margin: 0 auto; background: #fff; border: 1px solid #e3e3e8; border-radius: 10px; padding: 1.5rem; }
        h1 { font-size: 1.3rem; } h2 { font-size: 1.05rem; }
        table { width: 100%; border-collapse: collapse; margin: 1rem 0; }
        td, th { text-align: left; padding: .4rem 0; border-bottom: 1px solid #e3e3e8; }
        .amount { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
        .meta { color: #6b6b70; font-size: .9rem; } .test { background: #fff3c4; padding: .4rem .6rem; border-radius: 6px; }
        .button { display: inline-block; background: #0a6c5a; color: #fff; padding: .6rem 1.1rem; border-radius: 6px; text-decoration: none; }
        code { word-break: break-all; }
        </style></head>
        <body><main>
        \(body.joined(separator: "\n"))
        </main></body></html>
        """
    }
}
