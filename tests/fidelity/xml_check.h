// A small XML well-formedness check for the report test (no python or libxml2 on a fresh
// machine): balanced, properly nested tags, quoted attributes, only XML's own entities or
// numeric references, one root element. Returns "" when well-formed, else what is wrong.
#pragma once

#include <cctype>
#include <string>
#include <vector>

namespace dgc::test {

inline std::string xml_problem(const std::string& s) {
    std::vector<std::string> open;
    int roots = 0;
    size_t i = 0;
    auto at = [&](size_t p) { return " at byte " + std::to_string(p); };
    while (i < s.size()) {
        if (s[i] == '&') {
            const size_t end = s.find(';', i);
            if (end == std::string::npos) return "unterminated entity" + at(i);
            const std::string e = s.substr(i + 1, end - i - 1);
            const bool numeric = e.size() > 1 && e[0] == '#';
            if (!numeric && e != "amp" && e != "lt" && e != "gt" && e != "quot" && e != "apos")
                return "unknown entity &" + e + ";" + at(i);
            i = end + 1;
            continue;
        }
        if (s[i] != '<') {
            if (open.empty() && !std::isspace(static_cast<unsigned char>(s[i]))) return "text outside the root" + at(i);
            ++i;
            continue;
        }
        if (s.compare(i, 4, "<!--") == 0) {
            const size_t end = s.find("-->", i);
            if (end == std::string::npos) return "unterminated comment" + at(i);
            i = end + 3;
            continue;
        }
        if (s.compare(i, 2, "<!") == 0 || s.compare(i, 2, "<?") == 0) {  // DOCTYPE, declaration
            i = s.find('>', i);
            if (i == std::string::npos) return "unterminated declaration";
            ++i;
            continue;
        }
        const bool closing = s[i + 1] == '/';
        size_t p = i + (closing ? 2 : 1);
        const size_t name_start = p;
        while (p < s.size() && (std::isalnum(static_cast<unsigned char>(s[p])) || s[p] == ':' || s[p] == '-' || s[p] == '_'))
            ++p;
        const std::string name = s.substr(name_start, p - name_start);
        if (name.empty()) return "tag without a name" + at(i);
        // Attributes: name="value" or name='value'.
        while (p < s.size() && s[p] != '>' && !(s[p] == '/' && p + 1 < s.size() && s[p + 1] == '>')) {
            if (std::isspace(static_cast<unsigned char>(s[p]))) {
                ++p;
                continue;
            }
            if (closing) return "attribute in a closing tag" + at(p);
            while (p < s.size() && s[p] != '=' && s[p] != '>' && !std::isspace(static_cast<unsigned char>(s[p]))) ++p;
            if (p >= s.size() || s[p] != '=') return "attribute without a value in <" + name + ">" + at(p);
            ++p;
            const char q = s[p];
            if (q != '"' && q != '\'') return "unquoted attribute in <" + name + ">" + at(p);
            const size_t end = s.find(q, p + 1);
            if (end == std::string::npos) return "unterminated attribute" + at(p);
            if (s.substr(p + 1, end - p - 1).find('<') != std::string::npos) return "'<' in an attribute" + at(p);
            p = end + 1;
        }
        if (p >= s.size()) return "unterminated tag <" + name + ">";
        const bool self_closing = s[p] == '/';
        i = p + (self_closing ? 2 : 1);
        if (closing) {
            if (open.empty() || open.back() != name) return "</" + name + "> does not close the open element" + at(p);
            open.pop_back();
        } else if (!self_closing) {
            if (open.empty()) ++roots;
            open.push_back(name);
        } else if (open.empty()) {
            ++roots;
        }
        // Raw text elements: skip to their end so CSS such as "a>b" is not read as markup.
        if (!closing && !self_closing && (name == "style" || name == "script")) {
            const size_t end = s.find("</" + name + ">", i);
            if (end == std::string::npos) return "unterminated <" + name + ">";
            if (s.substr(i, end - i).find('<') != std::string::npos || s.substr(i, end - i).find('&') != std::string::npos)
                return "markup character inside <" + name + ">";
            i = end;
        }
    }
    if (!open.empty()) return "<" + open.back() + "> never closed";
    if (roots != 1) return std::to_string(roots) + " root elements";
    return "";
}

}  // namespace dgc::test
