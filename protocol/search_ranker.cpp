#include "protocol/search_ranker.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_set>

namespace warren {

namespace {

bool is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// Lowercase alphanumeric runs of `text`, stop words included.
std::vector<std::string> words_of(std::string_view text) {
  std::vector<std::string> out;
  std::string word;
  for (char c : text) {
    if (is_word_char(c)) {
      word += lower(c);
    } else if (!word.empty()) {
      out.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty())
    out.push_back(std::move(word));
  return out;
}

// Words that carry no meaning for finding an API operation. "api" is in every path.
bool is_stop_word(const std::string& word) {
  static const std::unordered_set<std::string> stop = {
      "a",     "an",   "the",    "of",    "to",    "in",   "on",    "for",   "from",
      "with",  "by",   "at",     "as",    "into",  "is",   "are",   "was",   "were",
      "be",    "been", "am",     "i",     "me",    "my",   "we",    "our",   "us",
      "you",   "your", "it",     "its",   "this",  "that", "these", "those", "what",
      "which", "who",  "how",    "do",    "does",  "did",  "can",   "could", "should",
      "would", "will", "please", "there", "their", "them", "they",  "have",  "has",
      "had",   "any",  "some",   "or",    "and",   "if",   "e",     "g",     "eg",
      "api",   "want", "need",   "let",   "lets",  "just", "one",   "such",  "than",
      "then",  "so",   "about"};
  return stop.count(word) > 0;
}

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

} // namespace

std::string search_ranker::stem(std::string_view word) {
  std::string w;
  w.reserve(word.size());
  for (char c : word)
    w += lower(c);
  if (w.size() <= 3)
    return w;
  // Plurals first, so that "connections" reaches the -ion rule below.
  if (ends_with(w, "ies") && w.size() > 4)
    w.replace(w.size() - 3, 3, "y");
  else if (ends_with(w, "sses") || ends_with(w, "xes") || ends_with(w, "ches") ||
           ends_with(w, "shes") || ends_with(w, "zes"))
    w.resize(w.size() - 2);
  else if (ends_with(w, "s") && !ends_with(w, "ss") && !ends_with(w, "us") &&
           !ends_with(w, "is"))
    w.resize(w.size() - 1);
  // Verb and noun endings, only when a real stem (4+ letters) stays.
  bool verb = false;
  if (ends_with(w, "ing") && w.size() >= 7) {
    w.resize(w.size() - 3);
    verb = true;
  } else if (ends_with(w, "ied") && w.size() > 4) {
    w.replace(w.size() - 3, 3, "y");
  } else if (ends_with(w, "ed") && w.size() >= 6) {
    w.resize(w.size() - 2);
    verb = true;
  } else if (ends_with(w, "ion") && w.size() >= 7) {
    w.resize(w.size() - 3);
  }
  // "running" -> "runn" -> "run", "stopped" -> "stop"; "called" keeps its "ll".
  if (verb && w.size() >= 4 && w[w.size() - 1] == w[w.size() - 2] &&
      std::string_view{"lsz"}.find(w.back()) == std::string_view::npos)
    w.pop_back();
  // "create", "created" and "creating" all end as "creat".
  if (w.size() > 4 && w.back() == 'e')
    w.pop_back();
  return w;
}

std::vector<std::string> search_ranker::terms(std::string_view text) {
  std::vector<std::string> out;
  for (auto& w : words_of(text))
    if (!is_stop_word(w))
      out.push_back(stem(w));
  return out;
}

std::size_t search_ranker::add(const std::vector<field>& fields) {
  auto doc = lengths_.size();
  std::unordered_map<std::string, double> tf;
  double length = 0;
  for (auto& f : fields)
    for (auto& t : terms(f.text)) {
      tf[t] += f.weight;
      length += f.weight;
    }
  for (auto& [term, freq] : tf)
    terms_[term].postings.push_back({doc, freq});
  lengths_.push_back(length);
  return doc;
}

void search_ranker::add_synonym(std::string_view word, std::string_view expansion) {
  auto key = stem(word);
  auto& list = synonyms_[key];
  auto value = stem(expansion);
  if (value != key && std::find(list.begin(), list.end(), value) == list.end())
    list.push_back(std::move(value));
}

void search_ranker::finish() {
  double n = static_cast<double>(lengths_.size());
  double total = 0;
  for (auto l : lengths_)
    total += l;
  average_length_ = lengths_.empty() || total <= 0 ? 1 : total / n;
  for (auto& [term, info] : terms_) {
    double df = static_cast<double>(info.postings.size());
    info.idf = std::log(1 + (n - df + 0.5) / (df + 0.5));
  }
}

std::vector<search_ranker::hit> search_ranker::rank(std::string_view query) const {
  // Query term -> weight; a word typed counts 1, a synonym or compound less or equal.
  std::vector<std::pair<std::string, double>> weights;
  auto weigh = [&](std::string term, double w) {
    for (auto& [t, old] : weights)
      if (t == term) {
        old = std::max(old, w);
        return;
      }
    weights.emplace_back(std::move(term), w);
  };
  auto words = words_of(query);
  // Operators write "who am i" or "virtual host" where the API writes one word.
  for (std::size_t i = 0; i + 1 < words.size(); ++i) {
    std::string joined = words[i];
    for (std::size_t j = i + 1; j < words.size() && j < i + 3; ++j) {
      joined += words[j];
      auto t = stem(joined);
      if (terms_.count(t) > 0)
        weigh(t, 1);
      else if (auto s = synonyms_.find(t); s != synonyms_.end())
        for (auto& e : s->second)
          weigh(e, 1);
    }
  }
  // A stop word is no term itself but may still imply one ("who" asks for a list).
  for (auto& w : words) {
    auto t = stem(w);
    if (auto s = synonyms_.find(t); s != synonyms_.end())
      for (auto& e : s->second)
        weigh(e, synonym_weight);
    if (!is_stop_word(w))
      weigh(std::move(t), 1);
  }
  std::vector<double> scores(lengths_.size(), 0.0);
  for (auto& [term, w] : weights) {
    auto it = terms_.find(term);
    if (it == terms_.end())
      continue;
    for (auto& p : it->second.postings) {
      double norm = k1 * (1 - b + b * lengths_[p.doc] / average_length_);
      scores[p.doc] += w * it->second.idf * p.tf * (k1 + 1) / (p.tf + norm);
    }
  }
  std::vector<hit> out;
  for (std::size_t d = 0; d < scores.size(); ++d)
    if (scores[d] > 0)
      out.push_back({d, scores[d]});
  return out;
}

} // namespace warren
