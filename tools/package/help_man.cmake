# Writes a man page from a program's --help: cmake -DPROGRAM=path -DNAME=name -DSUMMARY=text
# -DOUT=file -P help_man.cmake. The help text is the page's DESCRIPTION, as printed (.nf), so
# the page and --help can never disagree.
execute_process(COMMAND ${PROGRAM} --help OUTPUT_VARIABLE help RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} --help exited ${status}")
endif()
# roff: a backslash is \e, and a line starting with . or ' would be a request.
string(REPLACE "\\" "\\e" help "${help}")
string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" help "${help}")
string(TOUPPER "${NAME}" title)
file(WRITE ${OUT} ".TH ${title} 1 \"\" \"fundflow ${VERSION}\" \"fundflow\"\n"
     ".SH NAME\n${NAME} \\- ${SUMMARY}\n.SH DESCRIPTION\n.nf\n${help}.fi\n"
     ".SH SEE ALSO\nfundflowd(1), fundflow(1), fundflow\\-admin(1); /usr/share/doc/fundflow\n")
