#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace warren {

/// A small lexical ranker: Okapi BM25 over short documents made of weighted fields,
/// with light stemming, stop words, compound words ("who am i" -> "whoami") and a
/// synonym table applied to the query. Pure and immutable once finish() ran.
class search_ranker {
public:
  struct field {
    std::string_view text;
    double weight = 1; ///< counts each occurrence of a term this many times
  };

  struct hit {
    std::size_t doc = 0; ///< index in the order of add()
    double score = 0;
  };

  /// Adds a document; returns its index.
  std::size_t add(const std::vector<field>& fields);

  /// Expansions for a query word (both sides go through the same stemming); the
  /// expansions count `weight` times a word the user typed.
  void add_synonym(std::string_view word, std::string_view expansion);

  /// Computes the document frequencies; call once after the last add().
  void finish();

  /// Every document that matches at least one term, in no particular order.
  std::vector<hit> rank(std::string_view query) const;

  std::size_t size() const { return lengths_.size(); }

  /// The index terms of `text`: lowercase alphanumeric words, stop words dropped,
  /// stemmed.
  static std::vector<std::string> terms(std::string_view text);

  /// Lowercase `word` with plural and -ing/-ed/-ion endings and a final "e" removed,
  /// so "queues" and "queue", "connected" and "connections" meet.
  static std::string stem(std::string_view word);

  static constexpr double k1 = 1.2;
  static constexpr double b = 0.75;
  static constexpr double synonym_weight = 0.6;

private:
  struct posting {
    std::size_t doc;
    double tf;
  };
  struct term_info {
    std::vector<posting> postings;
    double idf = 0;
  };
  std::unordered_map<std::string, term_info> terms_;
  std::unordered_map<std::string, std::vector<std::string>> synonyms_;
  std::vector<double> lengths_;
  double average_length_ = 1;
};

} // namespace warren
