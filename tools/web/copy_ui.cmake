# Copies the web view into OUT (run by tools/web/CMakeLists.txt with -P): the pages from SOURCE,
# nhsuk-frontend's CSS, JS and icons from NHSUK, and ECHARTS (echarts.min.js).
#
# nhsuk-frontend's compiled CSS names its icons by absolute paths (/assets/images/...) and loads
# the Frutiger font from assets.nhs.uk; the server's Content-Security-Policy allows only its own
# origin, and the font is licensed to NHS websites alone. So the copy points the icons at
# nhsuk/assets/images/ beside the CSS and leaves out the @font-face rules: text falls back to
# Arial, as the design system's own font stack says.
foreach(variable SOURCE NHSUK ECHARTS OUT)
  if(NOT DEFINED ${variable})
    message(FATAL_ERROR "copy_ui.cmake: ${variable} is not set")
  endif()
endforeach()

file(REMOVE_RECURSE ${OUT})
file(COPY ${SOURCE}/ DESTINATION ${OUT})
file(MAKE_DIRECTORY ${OUT}/nhsuk/assets/images ${OUT}/vendor)
file(GLOB icons ${NHSUK}/assets/images/*.svg ${NHSUK}/assets/images/favicon.ico)
file(COPY ${icons} DESTINATION ${OUT}/nhsuk/assets/images)
file(COPY ${NHSUK}/nhsuk-frontend.min.js DESTINATION ${OUT}/nhsuk)
file(COPY ${ECHARTS} DESTINATION ${OUT}/vendor)

file(READ ${NHSUK}/nhsuk-frontend.min.css css)
string(REGEX REPLACE "@font-face{[^}]*}" "" css "${css}")
string(REPLACE "url(/assets/images/" "url(assets/images/" css "${css}")
string(FIND "${css}" "url(http" external)
if(NOT external EQUAL -1)
  message(FATAL_ERROR "copy_ui.cmake: nhsuk-frontend.min.css still names an external URL")
endif()
file(WRITE ${OUT}/nhsuk/nhsuk-frontend.min.css "${css}")
