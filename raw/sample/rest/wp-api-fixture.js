var mockedApiResponse = {};

mockedApiResponse.PostModel = {
    "id": 5803,
    "date": "2019-04-18T14:33:00",
    "date_gmt": "2019-04-18T14:33:00",
    "guid": {
        "rendered": "https://aurora-institute.org/?post_type=cw_post&p=5803"
    },
    "modified": "2019-04-19T09:00:00",
    "modified_gmt": "2019-04-19T09:00:00",
    "slug": "flexible-pacing-and-the-students-who-fall-behind",
    "status": "publish",
    "type": "cw_post",
    "link": "https://aurora-institute.org/cw_post/flexible-pacing-and-the-students-who-fall-behind/",
    "title": {
        "rendered": "Flexible Pacing and the Students Who Fall Behind"
    },
    "content": {
        "rendered": "<p>When our district first talked about mastery, nobody agreed on what it meant.</p>\n<p>Families receive a two-page guide that explains the new report card. Each learning target is written so that a student can explain it in their own words. Grades now describe what a student knows, not how compliant they were.</p>\n<p>Each learning target is written so that a student can explain it in their own words. The \u201cwhy\u201d behind each policy mattered more than the policy itself. Flexible pacing can become a polite way of letting some students fall behind.</p>\n<p>The school replaced its honor roll with a public exhibition of student work. Coaches spent most of their time helping teachers write better feedback. Grades now describe what a student knows, not how compliant they were.</p>\n<p>What would you do differently? Let us know in the comments.</p>\n",
        "protected": false
    },
    "excerpt": {
        "rendered": "<p>When our district first talked about mastery, nobody agreed on what it meant. [&hellip;]</p>\n",
        "protected": false
    },
    "author": 7,
    "featured_media": 0,
    "issue": [
        412
    ],
    "coauthors": [],
    "class_list": [
        "post-5803",
        "cw_post",
        "type-cw_post",
        "status-publish",
        "hentry",
        "issue-equity"
    ],
    "yoast_head": "<title>Flexible Pacing and the Students Who Fall Behind - Aurora Institute</title>\n<meta property=\"og:site_name\" content=\"Aurora Institute\" />\n"
};
