# bpf_object(NAME SOURCE): compiles bpf/<SOURCE> with clang for the BPF target
# (CO-RE, BTF), links it with bpftool and generates <NAME>.skel.h. Defines the
# INTERFACE target bpf_<NAME> whose include path carries the skeleton header.
find_program(BPF_CLANG NAMES clang-14 clang REQUIRED)
find_program(BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin REQUIRED)

set(BPF_GEN_DIR ${CMAKE_BINARY_DIR}/bpf_gen)
file(MAKE_DIRECTORY ${BPF_GEN_DIR})

# vmlinux.h is generated from the build host's BTF: CO-RE relocates field
# offsets at load time, so the object still runs on other kernels.
set(BPF_VMLINUX_BTF /sys/kernel/btf/vmlinux CACHE FILEPATH "BTF used to generate vmlinux.h")
add_custom_command(
  OUTPUT ${BPF_GEN_DIR}/vmlinux.h
  COMMAND ${BPFTOOL} btf dump file ${BPF_VMLINUX_BTF} format c > ${BPF_GEN_DIR}/vmlinux.h.tmp
  COMMAND ${CMAKE_COMMAND} -E rename ${BPF_GEN_DIR}/vmlinux.h.tmp ${BPF_GEN_DIR}/vmlinux.h
  COMMENT "Generating vmlinux.h from ${BPF_VMLINUX_BTF}"
  VERBATIM)
add_custom_target(bpf_vmlinux_h DEPENDS ${BPF_GEN_DIR}/vmlinux.h)

if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  set(BPF_TARGET_ARCH x86)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
  set(BPF_TARGET_ARCH arm64)
else()
  message(FATAL_ERROR "unsupported architecture for BPF: ${CMAKE_SYSTEM_PROCESSOR}")
endif()

function(bpf_object NAME SOURCE)
  set(src ${CMAKE_CURRENT_SOURCE_DIR}/${SOURCE})
  set(obj ${BPF_GEN_DIR}/${NAME}.bpf.o)
  set(linked ${BPF_GEN_DIR}/${NAME}.linked.o)
  set(skel ${BPF_GEN_DIR}/${NAME}.skel.h)
  file(GLOB bpf_headers CONFIGURE_DEPENDS
       ${CMAKE_SOURCE_DIR}/bpf/include/*.h ${CMAKE_SOURCE_DIR}/bpf/shared/*.h)
  # libbpf's bpf_helpers.h comes from the libbpf found by pkg-config (listed
  # last, so a vendored copy in bpf/include would win).
  set(libbpf_includes)
  foreach(dir ${LIBBPF_INCLUDE_DIRS} ${LIBBPF_INCLUDEDIR})
    list(APPEND libbpf_includes -idirafter ${dir})
  endforeach()
  add_custom_command(
    OUTPUT ${obj}
    COMMAND ${BPF_CLANG} -target bpf -g -O2 -Wall -Werror -D__TARGET_ARCH_${BPF_TARGET_ARCH}
            -I${BPF_GEN_DIR} -I${CMAKE_SOURCE_DIR}/bpf/include -I${CMAKE_SOURCE_DIR}/bpf/shared
            ${libbpf_includes} -c ${src} -o ${obj}
    DEPENDS ${src} ${bpf_headers} ${BPF_GEN_DIR}/vmlinux.h
    COMMENT "BPF ${SOURCE}"
    VERBATIM)
  add_custom_command(
    OUTPUT ${linked} ${skel}
    COMMAND ${BPFTOOL} gen object ${linked} ${obj}
    # Via a temporary file: a failed bpftool must not leave a truncated header
    # that make then considers up to date.
    COMMAND ${BPFTOOL} gen skeleton ${linked} name ${NAME} > ${skel}.tmp
    COMMAND ${CMAKE_COMMAND} -E rename ${skel}.tmp ${skel}
    DEPENDS ${obj}
    COMMENT "BPF skeleton ${NAME}.skel.h"
    VERBATIM)
  add_custom_target(bpf_${NAME}_gen DEPENDS ${skel})
  # vmlinux.h is made by bpf_vmlinux_h alone: with the Makefile generator each
  # target that lists the file would run its own copy of the command, and two
  # programs built in parallel would race on the same output.
  add_dependencies(bpf_${NAME}_gen bpf_vmlinux_h)
  # bpf_skeletons: every generated header, without compiling any C++ (scripts/lint.sh
  # needs them for clang-tidy).
  if(NOT TARGET bpf_skeletons)
    add_custom_target(bpf_skeletons)
  endif()
  add_dependencies(bpf_skeletons bpf_${NAME}_gen)
  add_library(bpf_${NAME} INTERFACE)
  add_dependencies(bpf_${NAME} bpf_${NAME}_gen)
  # The skeleton is bpftool's generated code: include it as a system header so
  # warnings and clang-tidy findings inside it (not ours to fix) are not reported.
  target_include_directories(bpf_${NAME} SYSTEM INTERFACE ${BPF_GEN_DIR})
  target_include_directories(bpf_${NAME} INTERFACE ${CMAKE_SOURCE_DIR}/bpf/shared)
endfunction()
