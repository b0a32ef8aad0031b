package api

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// TestEndpoints checks every endpoint's exact answer on the fixture, on
// every configured database. The global token reads the default site
// (id 1, the lowest) since the request's Host names no site.
func TestEndpoints(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		for _, tc := range endpointCases {
			t.Run(tc.path, func(t *testing.T) { e.getJSON(t, e.tokAll, tc.path, tc.want) })
		}
	})
}

type endpointCase struct{ path, want string }

// The values, worked out from the fixture:
//   - site 1's users are alice, bob, dave (enrolled in A101) and erin (A101
//     staff); carol and dave's B201 enrollment belong to site 2, frank to none;
//   - November's course metrics of A101 average 0.34 and 0.35 (0.345, half
//     to even: 0.34) and 10 and 13 days (11.5, ceiling: 12); A102's are all
//     NULL (0, where the original crashed);
//   - bob joined on 31 October 23:30, which the original's window counted in
//     November's new users.
var endpointCases = []endpointCase{
	{"/figures/api/site-monthly-metrics/",
		`{"active_users":3,"registered_users":4,"new_users":1,"site_courses":2,"course_enrollments":5,"course_completions":1}`},
	{"/figures/api/site-monthly-metrics/active_users/",
		`{"active_users":{"current_month":3,"history":[{"period":"2023/06","value":0},{"period":"2023/07","value":0},{"period":"2023/08","value":1},{"period":"2023/09","value":4},{"period":"2023/10","value":2},{"period":"2023/11","value":3}]}}`},
	{"/figures/api/site-monthly-metrics/registered_users/",
		`{"registered_users":{"current_month":4,"history":[{"period":"2023/06","value":0},{"period":"2023/07","value":0},{"period":"2023/08","value":0},{"period":"2023/09","value":0},{"period":"2023/10","value":3},{"period":"2023/11","value":4}]}}`},
	{"/figures/api/site-monthly-metrics/new_users/",
		`{"new_users":{"current_month":1,"history":[{"period":"2023/06","value":1},{"period":"2023/07","value":0},{"period":"2023/08","value":0},{"period":"2023/09","value":0},{"period":"2023/10","value":1},{"period":"2023/11","value":1}]}}`},
	{"/figures/api/site-monthly-metrics/course_completions/",
		`{"course_completions":{"current_month":1,"history":[{"period":"2023/06","value":0},{"period":"2023/07","value":0},{"period":"2023/08","value":0},{"period":"2023/09","value":0},{"period":"2023/10","value":0},{"period":"2023/11","value":1}]}}`},
	{"/figures/api/site-monthly-metrics/course_enrollments/",
		`{"course_enrollments":{"current_month":5,"history":[{"period":"2023/06","value":0},{"period":"2023/07","value":0},{"period":"2023/08","value":0},{"period":"2023/09","value":0},{"period":"2023/10","value":3},{"period":"2023/11","value":5}]}}`},
	{"/figures/api/site-monthly-metrics/site_courses/",
		`{"site_courses":{"current_month":2,"history":[{"period":"2023/06","value":0},{"period":"2023/07","value":0},{"period":"2023/08","value":0},{"period":"2023/09","value":0},{"period":"2023/10","value":2},{"period":"2023/11","value":2}]}}`},
	{"/figures/api/general-site-metrics?date_for=2023-10-05",
		`{"monthly_active_users":{"current_month":2,"history":[{"period":"2023/05","value":0},{"period":"2023/06","value":0},{"period":"2023/07","value":0},{"period":"2023/08","value":1},{"period":"2023/09","value":4},{"period":"2023/10","value":2}]},
		  "total_site_users":{"current_month":3,"history":[{"period":"2023/05","value":0},{"period":"2023/06","value":0},{"period":"2023/07","value":0},{"period":"2023/08","value":0},{"period":"2023/09","value":0},{"period":"2023/10","value":3}]},
		  "total_site_courses":{"current_month":2,"history":[{"period":"2023/05","value":0},{"period":"2023/06","value":0},{"period":"2023/07","value":0},{"period":"2023/08","value":0},{"period":"2023/09","value":0},{"period":"2023/10","value":2}]},
		  "total_course_enrollments":{"current_month":3,"history":[{"period":"2023/05","value":0},{"period":"2023/06","value":0},{"period":"2023/07","value":0},{"period":"2023/08","value":0},{"period":"2023/09","value":0},{"period":"2023/10","value":3}]},
		  "total_course_completions":{"current_month":0,"history":[{"period":"2023/05","value":0},{"period":"2023/06","value":0},{"period":"2023/07","value":0},{"period":"2023/08","value":0},{"period":"2023/09","value":0},{"period":"2023/10","value":0}]}}`},
	{"/figures/api/course-monthly-metrics/",
		`[{"course_id":"course-v1:AlphaX+A101+2023","month_for":"11/2023","active_users":3,"course_enrollments":3,"num_learners_completed":1,"avg_days_to_complete":12,"avg_progress":0.34},
		  {"course_id":"course-v1:AlphaX+A102+2023","month_for":"11/2023","active_users":1,"course_enrollments":0,"num_learners_completed":0,"avg_days_to_complete":0,"avg_progress":0}]`},
	{"/figures/api/course-monthly-metrics/course-v1:AlphaX+A101+2023/",
		`{"course_id":"course-v1:AlphaX+A101+2023","month_for":"11/2023","active_users":3,"course_enrollments":3,"num_learners_completed":1,"avg_days_to_complete":12,"avg_progress":0.34}`},
	{"/figures/api/course-monthly-metrics/course-v1:AlphaX+A101+2023/active_users/",
		`{"active_users":{"current_month":3,"history":[{"period":"2023/06","value":0},{"period":"2023/07","value":0},{"period":"2023/08","value":1},{"period":"2023/09","value":0},{"period":"2023/10","value":0},{"period":"2023/11","value":3}]}}`},
	{"/figures/api/course-monthly-metrics/course-v1:AlphaX+A101+2023/course_enrollments/",
		`{"course_enrollments":{"current_month":3,"history":[{"period":"2023/06","value":0},{"period":"2023/07","value":0},{"period":"2023/08","value":1},{"period":"2023/09","value":0},{"period":"2023/10","value":2},{"period":"2023/11","value":3}]}}`},
	{"/figures/api/course-monthly-metrics/course-v1:AlphaX+A101+2023/num_learners_completed/",
		`{"num_learners_completed":{"current_month":1,"history":[{"period":"2023/06","value":0},{"period":"2023/07","value":0},{"period":"2023/08","value":0},{"period":"2023/09","value":0},{"period":"2023/10","value":0},{"period":"2023/11","value":1}]}}`},
	{"/figures/api/course-monthly-metrics/course-v1:AlphaX+A101+2023/avg_days_to_complete/",
		`{"avg_days_to_complete":{"current_month":12,"history":[{"period":"2023/06","value":0},{"period":"2023/07","value":0},{"period":"2023/08","value":0},{"period":"2023/09","value":0},{"period":"2023/10","value":0},{"period":"2023/11","value":12}]}}`},
	{"/figures/api/course-monthly-metrics/course-v1:AlphaX+A101+2023/avg_progress/",
		`{"avg_progress":{"current_month":0.34,"history":[{"period":"2023/06","value":0},{"period":"2023/07","value":0},{"period":"2023/08","value":0.1},{"period":"2023/09","value":0},{"period":"2023/10","value":0.33},{"period":"2023/11","value":0.34}]}}`},
	{"/figures/api/courses-index/",
		`{"count":2,"next":null,"previous":null,"results":[{"id":"course-v1:AlphaX+A101+2023","name":"Alpha Intro","org":"AlphaX","number":"A101"},
		  {"id":"course-v1:AlphaX+A102+2023","name":"Advanced Alpha & <Co>","org":"AlphaX","number":"A102"}]}`},
	{"/figures/api/courses-index/course-v1:AlphaX+A102+2023/",
		`{"id":"course-v1:AlphaX+A102+2023","name":"Advanced Alpha & <Co>","org":"AlphaX","number":"A102"}`},
	{"/figures/api/courses-general/",
		`{"count":2,"next":null,"previous":null,"results":[
		  {"course_id":"course-v1:AlphaX+A101+2023","course_name":"Alpha Intro","course_code":"A101","org":"AlphaX","start_date":"2023-01-10T09:00:00Z","end_date":null,"self_paced":false,
		   "staff":[{"user_id":14,"username":"erin","fullname":"Erin Evans","role":"staff"}],
		   "metrics":{"id":3,"average_progress":"0.35","created":"2023-11-16T02:00:12.345678Z","modified":"2023-11-16T02:00:00Z","date_for":"2023-11-16","course_id":"course-v1:AlphaX+A101+2023","enrollment_count":3,"active_learners_today":2,"average_days_to_complete":13,"num_learners_completed":1,"site":1}},
		  {"course_id":"course-v1:AlphaX+A102+2023","course_name":"Advanced Alpha & <Co>","course_code":"A102","org":"AlphaX","start_date":null,"end_date":"2024-06-30T00:00:00Z","self_paced":true,"staff":[],
		   "metrics":{"id":4,"average_progress":null,"created":"2023-11-16T02:00:12.345678Z","modified":"2023-11-16T02:00:00Z","date_for":"2023-11-16","course_id":"course-v1:AlphaX+A102+2023","enrollment_count":0,"active_learners_today":0,"average_days_to_complete":null,"num_learners_completed":0,"site":1}}]}`},
	{"/figures/api/courses-general/course-v1:AlphaX+A101+2023",
		`{"course_id":"course-v1:AlphaX+A101+2023","course_name":"Alpha Intro","course_code":"A101","org":"AlphaX","start_date":"2023-01-10T09:00:00Z","end_date":null,"self_paced":false,
		  "staff":[{"user_id":14,"username":"erin","fullname":"Erin Evans","role":"staff"}],
		  "metrics":{"id":3,"average_progress":"0.35","created":"2023-11-16T02:00:12.345678Z","modified":"2023-11-16T02:00:00Z","date_for":"2023-11-16","course_id":"course-v1:AlphaX+A101+2023","enrollment_count":3,"active_learners_today":2,"average_days_to_complete":13,"num_learners_completed":1,"site":1}}`},
	{"/figures/api/courses-detail/course-v1:AlphaX+A101+2023/",
		`{"course_id":"course-v1:AlphaX+A101+2023","course_name":"Alpha Intro","course_code":"A101","org":"AlphaX","start_date":"2023-01-10T09:00:00Z","end_date":null,"self_paced":false,
		  "staff":[{"user_id":14,"username":"erin","fullname":"Erin Evans","role":"staff"}],
		  "learners_enrolled":{"current_month":3,"history":[{"period":"2023/06","value":0},{"period":"2023/07","value":0},{"period":"2023/08","value":1},{"period":"2023/09","value":0},{"period":"2023/10","value":2},{"period":"2023/11","value":3}]},
		  "average_progress":{"current_month":0.34,"history":[{"period":"2023/06","value":0},{"period":"2023/07","value":0},{"period":"2023/08","value":0.1},{"period":"2023/09","value":0},{"period":"2023/10","value":0.33},{"period":"2023/11","value":0.34}]},
		  "average_days_to_complete":{"current_month":12,"history":[{"period":"2023/06","value":0},{"period":"2023/07","value":0},{"period":"2023/08","value":0},{"period":"2023/09","value":0},{"period":"2023/10","value":0},{"period":"2023/11","value":12}]},
		  "users_completed":{"current_month":1,"history":[{"period":"2023/06","value":0},{"period":"2023/07","value":0},{"period":"2023/08","value":0},{"period":"2023/09","value":0},{"period":"2023/10","value":0},{"period":"2023/11","value":1}]}}`},
	{"/figures/api/courses-detail/?number=a102",
		`{"count":1,"next":null,"previous":null,"results":[{"course_id":"course-v1:AlphaX+A102+2023","course_name":"Advanced Alpha & <Co>","course_code":"A102","org":"AlphaX","start_date":null,"end_date":"2024-06-30T00:00:00Z","self_paced":true,"staff":[],
		  "learners_enrolled":{"current_month":0,"history":[{"period":"2023/06","value":0},{"period":"2023/07","value":0},{"period":"2023/08","value":0},{"period":"2023/09","value":0},{"period":"2023/10","value":0},{"period":"2023/11","value":0}]},
		  "average_progress":{"current_month":0,"history":[{"period":"2023/06","value":0},{"period":"2023/07","value":0},{"period":"2023/08","value":0},{"period":"2023/09","value":0},{"period":"2023/10","value":0},{"period":"2023/11","value":0}]},
		  "average_days_to_complete":{"current_month":0,"history":[{"period":"2023/06","value":0},{"period":"2023/07","value":0},{"period":"2023/08","value":0},{"period":"2023/09","value":0},{"period":"2023/10","value":0},{"period":"2023/11","value":0}]},
		  "users_completed":{"current_month":0,"history":[{"period":"2023/06","value":0},{"period":"2023/07","value":0},{"period":"2023/08","value":0},{"period":"2023/09","value":0},{"period":"2023/10","value":0},{"period":"2023/11","value":0}]}}]}`},
	{"/figures/api/users-general/",
		`{"count":4,"next":null,"previous":null,"results":[
		  {"id":10,"username":"alice","email":"alice@example.com","fullname":"Alice Archer","country":"US","is_active":true,"year_of_birth":1990,"gender":"f","date_joined":"2023-06-15","level_of_education":"b","language_proficiencies":[],
		   "courses":[{"id":"course-v1:AlphaX+A101+2023","display_name":"Alpha Intro","org":"AlphaX"},{"id":"course-v1:AlphaX+A102+2023","display_name":"Advanced Alpha & <Co>","org":"AlphaX"}]},
		  {"id":11,"username":"bob","email":"bob@example.org","fullname":"Bob Brown","country":"","is_active":true,"year_of_birth":null,"gender":null,"date_joined":"2023-10-31","level_of_education":null,"language_proficiencies":[],
		   "courses":[{"id":"course-v1:AlphaX+A101+2023","display_name":"Alpha Intro","org":"AlphaX"}]},
		  {"id":13,"username":"dave","email":"dave@example.com","fullname":"Dave Diaz","country":"FR","is_active":false,"year_of_birth":2000,"gender":"m","date_joined":"2023-11-05","level_of_education":"hs","language_proficiencies":[],
		   "courses":[{"id":"course-v1:AlphaX+A101+2023","display_name":"Alpha Intro","org":"AlphaX"}]},
		  {"id":14,"username":"erin","email":"erin@example.com","fullname":"Erin Evans","country":"US","is_active":true,"year_of_birth":null,"gender":"o","date_joined":"2023-01-01","level_of_education":"p","language_proficiencies":[],
		   "courses":[{"id":"course-v1:AlphaX+A101+2023","display_name":"Alpha Intro","org":"AlphaX"}]}]}`},
	{"/figures/api/users-general/11/",
		`{"id":11,"username":"bob","email":"bob@example.org","fullname":"Bob Brown","country":"","is_active":true,"year_of_birth":null,"gender":null,"date_joined":"2023-10-31","level_of_education":null,"language_proficiencies":[],
		  "courses":[{"id":"course-v1:AlphaX+A101+2023","display_name":"Alpha Intro","org":"AlphaX"}]}`},
	{"/figures/api/users-detail/10/",
		`{"id":10,"username":"alice","name":"Alice Archer","email":"alice@example.com","country":"US","is_active":true,"year_of_birth":1990,"level_of_education":"b","gender":"f","date_joined":"2023-06-15T10:00:00Z","bio":null,
		  "courses":[
		   {"course_name":"Alpha Intro","course_code":"A101","course_id":"course-v1:AlphaX+A101+2023","date_enrolled":"2023-06-20",
		    "progress_data":{"course_completed":"2023-11-15T14:00:00Z","course_progress":1,"course_progress_details":{"points_possible":10,"points_earned":8.5,"sections_worked":4,"sections_possible":4},
		     "course_progress_history":[{"date_for":"2023-11-01","progress_percent":0.5},{"date_for":"2023-11-15","progress_percent":1}]},"enrollment_id":100},
		   {"course_name":"Advanced Alpha & <Co>","course_code":"A102","course_id":"course-v1:AlphaX+A102+2023","date_enrolled":"2023-07-01",
		    "progress_data":{"course_completed":false,"course_progress":0.125,"course_progress_details":{"points_possible":8,"points_earned":2,"sections_worked":1,"sections_possible":8},
		     "course_progress_history":[{"date_for":"2023-11-10","progress_percent":0.125}]},"enrollment_id":101}],
		  "language_proficiencies":[],
		  "profile_image":{"has_image":false,"image_url_full":"/static/images/profiles/default_500.png","image_url_large":"/static/images/profiles/default_120.png","image_url_medium":"/static/images/profiles/default_50.png","image_url_small":"/static/images/profiles/default_30.png"}}`},
	{"/figures/api/users-detail/?enrolled_in_course_id=course-v1:AlphaX%2BA101%2B2023&ordering=-username",
		`{"count":3,"next":null,"previous":null,"results":[
		  {"id":13,"username":"dave","name":"Dave Diaz","email":"dave@example.com","country":"FR","is_active":false,"year_of_birth":2000,"level_of_education":"hs","gender":"m","date_joined":"2023-11-05T00:00:00Z","bio":null,
		   "courses":[{"course_name":"Alpha Intro","course_code":"A101","course_id":"course-v1:AlphaX+A101+2023","date_enrolled":"2023-11-06",
		    "progress_data":{"course_completed":false,"course_progress":0.75,"course_progress_details":{"points_possible":10,"points_earned":7,"sections_worked":3,"sections_possible":4},
		     "course_progress_history":[{"date_for":"2023-11-16","progress_percent":0.75}]},"enrollment_id":104}],
		   "language_proficiencies":[],
		   "profile_image":{"has_image":false,"image_url_full":"/static/images/profiles/default_500.png","image_url_large":"/static/images/profiles/default_120.png","image_url_medium":"/static/images/profiles/default_50.png","image_url_small":"/static/images/profiles/default_30.png"}},
		  {"id":11,"username":"bob","name":"Bob Brown","email":"bob@example.org","country":"","is_active":true,"year_of_birth":null,"level_of_education":null,"gender":null,"date_joined":"2023-10-31T23:30:00Z","bio":null,
		   "courses":[{"course_name":"Alpha Intro","course_code":"A101","course_id":"course-v1:AlphaX+A101+2023","date_enrolled":"2023-10-31",
		    "progress_data":{"course_completed":false,"course_progress":0.5,"course_progress_details":{"points_possible":10,"points_earned":4,"sections_worked":2,"sections_possible":4},
		     "course_progress_history":[{"date_for":"2023-11-16","progress_percent":0.5}]},"enrollment_id":102}],
		   "language_proficiencies":[],
		   "profile_image":{"has_image":false,"image_url_full":"/static/images/profiles/default_500.png","image_url_large":"/static/images/profiles/default_120.png","image_url_medium":"/static/images/profiles/default_50.png","image_url_small":"/static/images/profiles/default_30.png"}},
		  {"id":10,"username":"alice","name":"Alice Archer","email":"alice@example.com","country":"US","is_active":true,"year_of_birth":1990,"level_of_education":"b","gender":"f","date_joined":"2023-06-15T10:00:00Z","bio":null,
		   "courses":[
		    {"course_name":"Alpha Intro","course_code":"A101","course_id":"course-v1:AlphaX+A101+2023","date_enrolled":"2023-06-20",
		     "progress_data":{"course_completed":"2023-11-15T14:00:00Z","course_progress":1,"course_progress_details":{"points_possible":10,"points_earned":8.5,"sections_worked":4,"sections_possible":4},
		      "course_progress_history":[{"date_for":"2023-11-01","progress_percent":0.5},{"date_for":"2023-11-15","progress_percent":1}]},"enrollment_id":100},
		    {"course_name":"Advanced Alpha & <Co>","course_code":"A102","course_id":"course-v1:AlphaX+A102+2023","date_enrolled":"2023-07-01",
		     "progress_data":{"course_completed":false,"course_progress":0.125,"course_progress_details":{"points_possible":8,"points_earned":2,"sections_worked":1,"sections_possible":8},
		      "course_progress_history":[{"date_for":"2023-11-10","progress_percent":0.125}]},"enrollment_id":101}],
		   "language_proficiencies":[],
		   "profile_image":{"has_image":false,"image_url_full":"/static/images/profiles/default_500.png","image_url_large":"/static/images/profiles/default_120.png","image_url_medium":"/static/images/profiles/default_50.png","image_url_small":"/static/images/profiles/default_30.png"}}]}`},
	{"/figures/api/users-detail/14/",
		`{"id":14,"username":"erin","name":"Erin Evans","email":"erin@example.com","country":"US","is_active":true,"year_of_birth":null,"level_of_education":"p","gender":"o","date_joined":"2023-01-01T00:00:00Z","bio":null,
		  "courses":[{"course_name":"Alpha Intro","course_code":"A101","course_id":"course-v1:AlphaX+A101+2023","date_enrolled":"2023-01-02",
		   "progress_data":{"course_completed":false,"course_progress":0,"course_progress_details":null,"course_progress_history":[]},"enrollment_id":106}],
		  "language_proficiencies":[],
		  "profile_image":{"has_image":false,"image_url_full":"/static/images/profiles/default_500.png","image_url_large":"/static/images/profiles/default_120.png","image_url_medium":"/static/images/profiles/default_50.png","image_url_small":"/static/images/profiles/default_30.png"}}`},
	{"/figures/api/user-index/?search=EXAMPLE.COM,a",
		`{"count":3,"next":null,"previous":null,"results":[{"id":10,"username":"alice","fullname":"Alice Archer"},{"id":13,"username":"dave","fullname":"Dave Diaz"},{"id":14,"username":"erin","fullname":"Erin Evans"}]}`},
	{"/figures/api/user-index/13",
		`{"id":13,"username":"dave","fullname":"Dave Diaz"}`},
	{"/figures/api/learner-metrics/",
		`{"count":3,"next":null,"previous":null,"results":[
		  {"id":10,"username":"alice","email":"alice@example.com","fullname":"Alice Archer","is_active":true,"date_joined":"2023-06-15T10:00:00Z","enrollmentdata_set":[
		   {"id":1,"course_id":"course-v1:AlphaX+A101+2023","date_enrolled":"2023-06-20","is_enrolled":true,"is_completed":true,"progress_percent":1,"progress_details":{"points_possible":10,"points_earned":8.5,"sections_worked":4,"sections_possible":4},"progress_estimate":null},
		   {"id":2,"course_id":"course-v1:AlphaX+A102+2023","date_enrolled":"2023-07-01","is_enrolled":false,"is_completed":false,"progress_percent":0.125,"progress_details":{"points_possible":8,"points_earned":2,"sections_worked":1,"sections_possible":8},"progress_estimate":null}]},
		  {"id":11,"username":"bob","email":"bob@example.org","fullname":"Bob Brown","is_active":true,"date_joined":"2023-10-31T23:30:00Z","enrollmentdata_set":[
		   {"id":3,"course_id":"course-v1:AlphaX+A101+2023","date_enrolled":"2023-10-31","is_enrolled":true,"is_completed":false,"progress_percent":0.5,"progress_details":{"points_possible":10,"points_earned":4,"sections_worked":2,"sections_possible":4},"progress_estimate":null}]},
		  {"id":13,"username":"dave","email":"dave@example.com","fullname":"Dave Diaz","is_active":false,"date_joined":"2023-11-05T00:00:00Z","enrollmentdata_set":[
		   {"id":5,"course_id":"course-v1:AlphaX+A101+2023","date_enrolled":"2023-11-06","is_enrolled":true,"is_completed":false,"progress_percent":0.75,"progress_details":{"points_possible":10,"points_earned":7,"sections_worked":3,"sections_possible":4},"progress_estimate":"cohort"}]}]}`},
	// ?course= keeps the learners with progress in that course and narrows
	// their enrollment data to it; the raw '+' arrives as a space.
	{"/figures/api/learner-metrics/?course=course-v1:AlphaX+A102+2023&ordering=profile__name",
		`{"count":1,"next":null,"previous":null,"results":[
		  {"id":10,"username":"alice","email":"alice@example.com","fullname":"Alice Archer","is_active":true,"date_joined":"2023-06-15T10:00:00Z","enrollmentdata_set":[
		   {"id":2,"course_id":"course-v1:AlphaX+A102+2023","date_enrolled":"2023-07-01","is_enrolled":false,"is_completed":false,"progress_percent":0.125,"progress_details":{"points_possible":8,"points_earned":2,"sections_worked":1,"sections_possible":8},"progress_estimate":null}]}]}`},
	{"/figures/api/learner-metrics/13/",
		`{"id":13,"username":"dave","email":"dave@example.com","fullname":"Dave Diaz","is_active":false,"date_joined":"2023-11-05T00:00:00Z","enrollmentdata_set":[
		   {"id":5,"course_id":"course-v1:AlphaX+A101+2023","date_enrolled":"2023-11-06","is_enrolled":true,"is_completed":false,"progress_percent":0.75,"progress_details":{"points_possible":10,"points_earned":7,"sections_worked":3,"sections_possible":4},"progress_estimate":"cohort"}]}`},
	{"/figures/api/enrollment-metrics/",
		`{"count":5,"next":null,"previous":null,"results":[
		  {"id":1,"user":{"id":10,"username":"alice","fullname":"Alice Archer"},"course_id":"course-v1:AlphaX+A101+2023","date_for":"2023-11-01","completed":false,"points_earned":4,"points_possible":10,"sections_worked":2,"sections_possible":4,"progress_percent":"0.50","progress_estimate":null},
		  {"id":7,"user":{"id":10,"username":"alice","fullname":"Alice Archer"},"course_id":"course-v1:AlphaX+A102+2023","date_for":"2023-11-10","completed":false,"points_earned":2,"points_possible":8,"sections_worked":1,"sections_possible":8,"progress_percent":"0.12","progress_estimate":null},
		  {"id":2,"user":{"id":10,"username":"alice","fullname":"Alice Archer"},"course_id":"course-v1:AlphaX+A101+2023","date_for":"2023-11-15","completed":true,"points_earned":8.5,"points_possible":10,"sections_worked":4,"sections_possible":4,"progress_percent":"1.00","progress_estimate":null},
		  {"id":3,"user":{"id":11,"username":"bob","fullname":"Bob Brown"},"course_id":"course-v1:AlphaX+A101+2023","date_for":"2023-11-16","completed":false,"points_earned":4,"points_possible":10,"sections_worked":2,"sections_possible":4,"progress_percent":"0.50","progress_estimate":null},
		  {"id":6,"user":{"id":13,"username":"dave","fullname":"Dave Diaz"},"course_id":"course-v1:AlphaX+A101+2023","date_for":"2023-11-16","completed":false,"points_earned":7,"points_possible":10,"sections_worked":3,"sections_possible":4,"progress_percent":"0.75","progress_estimate":"cohort"}]}`},
	{"/figures/api/enrollment-metrics/?exclude_completed=true&date_after=2023-11-10&date_1=2023-11-15",
		`{"count":1,"next":null,"previous":null,"results":[
		  {"id":7,"user":{"id":10,"username":"alice","fullname":"Alice Archer"},"course_id":"course-v1:AlphaX+A102+2023","date_for":"2023-11-10","completed":false,"points_earned":2,"points_possible":8,"sections_worked":1,"sections_possible":8,"progress_percent":"0.12","progress_estimate":null}]}`},
	{"/figures/api/enrollment-metrics/completed/",
		`{"count":1,"next":null,"previous":null,"results":[
		  {"id":2,"user":{"id":10,"username":"alice","fullname":"Alice Archer"},"course_id":"course-v1:AlphaX+A101+2023","date_for":"2023-11-15","completed":true,"points_earned":8.5,"points_possible":10,"sections_worked":4,"sections_possible":4,"progress_percent":"1.00","progress_estimate":null}]}`},
	{"/figures/api/enrollment-metrics/completed_ids/",
		`{"count":1,"next":null,"previous":null,"results":[{"course_id":"course-v1:AlphaX+A101+2023","user_id":10}]}`},
	{"/figures/api/enrollment-metrics/6/",
		`{"id":6,"user":{"id":13,"username":"dave","fullname":"Dave Diaz"},"course_id":"course-v1:AlphaX+A101+2023","date_for":"2023-11-16","completed":false,"points_earned":7,"points_possible":10,"sections_worked":3,"sections_possible":4,"progress_percent":"0.75","progress_estimate":"cohort"}`},
	{"/figures/api/course-enrollments/",
		`{"count":5,"next":null,"previous":null,"results":[
		  {"id":100,"user":{"id":10,"username":"alice","fullname":"Alice Archer"},"created":"2023-06-20T12:00:00Z","is_active":true,"mode":"verified","course_id":"course-v1:AlphaX+A101+2023"},
		  {"id":101,"user":{"id":10,"username":"alice","fullname":"Alice Archer"},"created":"2023-07-01T00:00:00Z","is_active":false,"mode":"audit","course_id":"course-v1:AlphaX+A102+2023"},
		  {"id":102,"user":{"id":11,"username":"bob","fullname":"Bob Brown"},"created":"2023-10-31T23:45:00Z","is_active":true,"mode":"honor","course_id":"course-v1:AlphaX+A101+2023"},
		  {"id":104,"user":{"id":13,"username":"dave","fullname":"Dave Diaz"},"created":"2023-11-06T08:00:00Z","is_active":true,"mode":"audit","course_id":"course-v1:AlphaX+A101+2023"},
		  {"id":106,"user":{"id":14,"username":"erin","fullname":"Erin Evans"},"created":"2023-01-02T00:00:00Z","is_active":true,"mode":"audit","course_id":"course-v1:AlphaX+A101+2023"}]}`},
	{"/figures/api/course-enrollments/?is_active=False&course_id=course-v1:AlphaX%2BA102%2B2023",
		`{"count":1,"next":null,"previous":null,"results":[
		  {"id":101,"user":{"id":10,"username":"alice","fullname":"Alice Archer"},"created":"2023-07-01T00:00:00Z","is_active":false,"mode":"audit","course_id":"course-v1:AlphaX+A102+2023"}]}`},
	{"/figures/api/course-enrollments/102/",
		`{"id":102,"user":{"id":11,"username":"bob","fullname":"Bob Brown"},"created":"2023-10-31T23:45:00Z","is_active":true,"mode":"honor","course_id":"course-v1:AlphaX+A101+2023"}`},
	{"/figures/api/course-daily-metrics/?date_0=2023-10-01",
		`{"count":4,"next":null,"previous":null,"results":[
		  {"id":3,"average_progress":"0.35","created":"2023-11-16T02:00:12.345678Z","modified":"2023-11-16T02:00:00Z","date_for":"2023-11-16","course_id":"course-v1:AlphaX+A101+2023","enrollment_count":3,"active_learners_today":2,"average_days_to_complete":13,"num_learners_completed":1,"site":1},
		  {"id":4,"average_progress":null,"created":"2023-11-16T02:00:12.345678Z","modified":"2023-11-16T02:00:00Z","date_for":"2023-11-16","course_id":"course-v1:AlphaX+A102+2023","enrollment_count":0,"active_learners_today":0,"average_days_to_complete":null,"num_learners_completed":0,"site":1},
		  {"id":2,"average_progress":"0.34","created":"2023-11-16T02:00:12.345678Z","modified":"2023-11-16T02:00:00Z","date_for":"2023-11-15","course_id":"course-v1:AlphaX+A101+2023","enrollment_count":3,"active_learners_today":2,"average_days_to_complete":10,"num_learners_completed":1,"site":1},
		  {"id":1,"average_progress":"0.33","created":"2023-11-16T02:00:12.345678Z","modified":"2023-11-16T02:00:00Z","date_for":"2023-10-31","course_id":"course-v1:AlphaX+A101+2023","enrollment_count":2,"active_learners_today":1,"average_days_to_complete":null,"num_learners_completed":0,"site":1}]}`},
	{"/figures/api/course-daily-metrics/6/",
		`{"id":6,"average_progress":"0.10","created":"2023-11-16T02:00:12.345678Z","modified":"2023-11-16T02:00:00Z","date_for":"2023-08-10","course_id":"course-v1:AlphaX+A101+2023","enrollment_count":1,"active_learners_today":1,"average_days_to_complete":null,"num_learners_completed":0,"site":1}`},
	{"/figures/api/site-daily-metrics/?date_for=2023-11-15",
		`{"count":1,"next":null,"previous":null,"results":[
		  {"id":2,"site":{"id":1,"domain":"alpha.example.com","name":"Alpha"},"created":"2023-11-16T02:00:00Z","modified":"2023-11-16T02:00:00Z","date_for":"2023-11-15","cumulative_active_user_count":null,"todays_active_user_count":null,"total_user_count":4,"course_count":2,"total_enrollment_count":4,"mau":3}]}`},
	{"/figures/api/site-daily-metrics/1/",
		`{"id":1,"site":{"id":1,"domain":"alpha.example.com","name":"Alpha"},"created":"2023-11-16T02:00:00Z","modified":"2023-11-16T02:00:00Z","date_for":"2023-10-31","cumulative_active_user_count":5,"todays_active_user_count":1,"total_user_count":3,"course_count":2,"total_enrollment_count":3,"mau":2}`},
	{"/figures/api/course-mau-metrics/",
		`{"next":null,"previous":null,"count":2,"num_pages":1,"current_page":1,"start":0,"results":[
		  {"mau":3,"date_for":"2023-11-16","domain":"alpha.example.com","course_id":"course-v1:AlphaX+A101+2023"},
		  {"mau":1,"date_for":"2023-11-16","domain":"alpha.example.com","course_id":"course-v1:AlphaX+A102+2023"}]}`},
	{"/figures/api/course-mau-metrics/2/",
		`{"mau":1,"date_for":"2023-11-16","domain":"alpha.example.com","course_id":"course-v1:AlphaX+A102+2023"}`},
	{"/figures/api/site-mau-metrics/?ordering=date_for",
		`{"next":null,"previous":null,"count":2,"num_pages":1,"current_page":1,"start":0,"results":[
		  {"mau":3,"date_for":"2023-11-15","domain":"alpha.example.com"},{"mau":3,"date_for":"2023-11-16","domain":"alpha.example.com"}]}`},
	{"/figures/api/site-mau-metrics/1/", `{"mau":3,"date_for":"2023-11-16","domain":"alpha.example.com"}`},
	{"/figures/api/course-mau-live-metrics/",
		`[{"month_for":"2023-11-17","count":3,"course_id":"course-v1:AlphaX+A101+2023","domain":"alpha.example.com"},
		  {"month_for":"2023-11-17","count":1,"course_id":"course-v1:AlphaX+A102+2023","domain":"alpha.example.com"}]`},
	{"/figures/api/course-mau-live-metrics/course-v1:AlphaX+A102+2023/",
		`{"month_for":"2023-11-17","count":1,"course_id":"course-v1:AlphaX+A102+2023","domain":"alpha.example.com"}`},
	{"/figures/api/site-mau-live-metrics/", `{"month_for":"2023-11-17","count":3,"domain":"alpha.example.com"}`},
	{"/figures/api/admin/sites/",
		`{"count":2,"next":null,"previous":null,"results":[{"id":1,"domain":"alpha.example.com","name":"Alpha"},{"id":2,"domain":"beta.example.com","name":"Beta"}]}`},
	{"/figures/api/admin/sites/?name=bet", `{"count":1,"next":null,"previous":null,"results":[{"id":2,"domain":"beta.example.com","name":"Beta"}]}`},
	{"/figures/api/admin/sites/2/", `{"id":2,"domain":"beta.example.com","name":"Beta"}`},
	// The second site, as a global caller asks for it.
	{"/figures/api/learner-metrics/?site=2",
		`{"count":2,"next":null,"previous":null,"results":[
		  {"id":12,"username":"carol","email":"carol@beta.example","fullname":"Carol Chen","is_active":true,"date_joined":"2023-11-02T08:00:00.123456Z","enrollmentdata_set":[
		   {"id":4,"course_id":"course-v1:BetaU+B201+2023","date_enrolled":"2023-11-03","is_enrolled":true,"is_completed":false,"progress_percent":0,"progress_details":{"points_possible":6,"points_earned":0,"sections_worked":0,"sections_possible":3},"progress_estimate":null}]},
		  {"id":13,"username":"dave","email":"dave@example.com","fullname":"Dave Diaz","is_active":false,"date_joined":"2023-11-05T00:00:00Z","enrollmentdata_set":[
		   {"id":6,"course_id":"course-v1:BetaU+B201+2023","date_enrolled":null,"is_enrolled":true,"is_completed":true,"progress_percent":1,"progress_details":{"points_possible":6,"points_earned":6,"sections_worked":3,"sections_possible":3},"progress_estimate":null}]}]}`},
	{"/figures/api/site-monthly-metrics/?site=2",
		`{"active_users":2,"registered_users":2,"new_users":2,"site_courses":1,"course_enrollments":2,"course_completions":1}`},
}

// TestKeyOrder checks that fields come in the original serializers' order,
// for clients that read JSON in order.
func TestKeyOrder(t *testing.T) {
	e := sqliteEnv(t)
	code, body := e.get(t, e.tokAll, "/figures/api/course-daily-metrics/3/")
	if code != http.StatusOK {
		t.Fatal(code, string(body))
	}
	want := `{"id":3,"average_progress":"0.35","created":"2023-11-16T02:00:12.345678Z","modified":"2023-11-16T02:00:00Z","date_for":"2023-11-16","course_id":"course-v1:AlphaX+A101+2023","enrollment_count":3,"active_learners_today":2,"average_days_to_complete":13,"num_learners_completed":1,"site":1}`
	if string(body) != compact(t, want) {
		t.Fatalf("got  %s\nwant %s", body, want)
	}
	code, body = e.get(t, e.tokAll, "/figures/api/courses-index/?limit=1")
	want = `{"count":2,"next":"http://example.com/figures/api/courses-index/?limit=1&offset=1","previous":null,"results":[{"id":"course-v1:AlphaX+A101+2023","name":"Alpha Intro","org":"AlphaX","number":"A101"}]}`
	if code != http.StatusOK || string(body) != want {
		t.Fatalf("got %d %s\nwant %s", code, body, want)
	}
}

// TestConcurrentRequests runs the endpoint table from many goroutines at
// once on a store whose pool has one connection (a SQLite writer's): no
// request may hold a statement open while it opens another, and the caches
// must be safe. Each answer must equal the sequential one.
func TestConcurrentRequests(t *testing.T) {
	e := sqliteEnv(t)
	want := map[string]string{}
	for _, tc := range endpointCases {
		_, body := e.get(t, e.tokAll, tc.path)
		want[tc.path] = string(body)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8*len(endpointCases))
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range endpointCases {
				tc := endpointCases[(i+g*7)%len(endpointCases)]
				rec := httptest.NewRecorder()
				req := httptest.NewRequest(http.MethodGet, tc.path, nil)
				req.Header.Set("Authorization", "Bearer "+e.tokAll)
				e.srv.ServeHTTP(rec, req)
				if rec.Body.String() != want[tc.path] {
					errs <- tc.path + ": " + rec.Body.String()
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}
}
